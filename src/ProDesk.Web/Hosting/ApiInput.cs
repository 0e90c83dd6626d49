using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Json;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Input every route refuses before an endpoint sees it, and the field named when the framework itself
/// refuses a request (a JSON value of the wrong type, a query value that does not bind): RFC 9457
/// problem details with <c>errors</c>, like the endpoints' own validation, in every environment.
/// A NUL character is refused in JSON strings and query values: PostgreSQL's text cannot hold one, so
/// it would otherwise fail deep in a query as a server error.
/// A PUT body replaces what it names, and an absent property means "none" (an SLA target, a contact's email): its
/// request type refuses properties it does not know (<c>[JsonUnmappedMemberHandling(Disallow)]</c>), naming the one
/// meant, so "resolutionMinutez" cannot clear the real one (probe round 18). POST bodies pass over unknown properties,
/// as integrations sending a field of their own expect.
/// </summary>
public static partial class ApiInput
{
    public static void AddApiInput(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new NulFreeStringConverter());
            // {"subject":"a","subject":"b"} (or "Subject") would let a proxy or validator in front read one value and
            // the desk store another: a body naming a property twice is refused, naming it.
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        // Binding failures throw in Production too (the default there is a bare 400), so the exception
        // handler can name the field (HostingExtensions).
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    }

    /// <summary>
    /// Refuses a query string holding a NUL character with a 400 naming the parameter, and TRACE (which
    /// some pages answered by rendering without their GET handler's data, or failing) with a 405.
    /// </summary>
    public static void UseApiInput(this WebApplication app) => app.Use(async (context, next) =>
    {
        // Not CONNECT: on HTTP/2 a WebSocket handshake (RFC 8441) is one.
        if (HttpMethods.IsTrace(context.Request.Method))
        {
            await TypedResults.Problem(statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed").ExecuteAsync(context);
            return;
        }

        // Nothing here decodes a compressed request body; read as it is, it would fail as "not valid JSON" or,
        // worse, be taken in as text. RFC 9110: 415 for a content coding the server does not accept.
        if (context.Request.Headers.ContentEncoding is { Count: > 0 } coding
            && (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            && coding.Any(c => !string.Equals(c?.Trim(), "identity", StringComparison.OrdinalIgnoreCase)))
        {
            context.Response.Headers.AcceptEncoding = "identity";
            await TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content coding",
                detail: "Send the request body uncompressed (no Content-Encoding).").ExecuteAsync(context);
            return;
        }

        if (CharsetProblem(context.Request) is { } charsetProblem)
        {
            await TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported charset", detail: charsetProblem)
                .ExecuteAsync(context);
            return;
        }

        var query = context.Request.QueryString.Value;
        if (query is not null && query.Contains("%00", StringComparison.Ordinal)
            && context.Request.Query.FirstOrDefault(p => p.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true)) is { Key: not null } bad)
        {
            await TypedResults.ValidationProblem(new Dictionary<string, string[]> { [bad.Key] = [NulMessage] }).ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    public const string NulMessage = "must not contain a NUL character";

    /// <summary>
    /// A JSON body's charset the framework cannot read (charset=nope, charset=utf-7, an empty one) failed as a server
    /// error when the body was read: refused here, naming it. A quoted one (charset="utf-8", which RFC 9110 allows) the
    /// framework would not look up either: it is unquoted on the request instead. A form's (the web form, sign-in,
    /// ratings, Twilio) fails the same way on UTF-7 alone, which .NET no longer reads: refused too (probe round 17).
    /// </summary>
    private static string? CharsetProblem(HttpRequest request)
    {
        if (request.ContentType is not { } contentType || !contentType.Contains("charset", StringComparison.OrdinalIgnoreCase)
            || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
            || type.Parameters.FirstOrDefault(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) is not { } parameter)
        {
            return null;
        }

        var json = type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
        var form = type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        if (!json && !form)
        {
            return null;
        }

        var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(parameter.Value).Trim().ToString();
        bool readable;
        try
        {
            readable = System.Text.Encoding.GetEncoding(charset).CodePage != 65000;
        }
        catch (NotSupportedException)
        {
            // UTF-7, which .NET no longer reads (and a way past filters that read UTF-8).
            readable = false;
        }
        catch (ArgumentException)
        {
            // An unknown name: a form reader passes over it (reading UTF-8); a JSON reader fails.
            readable = form;
        }

        if (!readable)
        {
            return json
                ? $"Send JSON in UTF-8 (RFC 8259): the charset '{charset}' is not one this server reads."
                : $"Send the form in UTF-8: the charset '{charset}' is not one this server reads.";
        }

        if (json && parameter.Value.ToString() != charset)
        {
            parameter.Value = charset;
            request.ContentType = type.ToString();
        }

        return null;
    }

    /// <summary>The field a framework refusal is about and what is wrong with it; null when it names none.</summary>
    public static (string Field, string Problem)? FieldOf(Exception? exception)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return null;
        }

        if (bad.InnerException is JsonException json)
        {
            return FieldOf(json);
        }

        // "Failed to bind parameter "int? limit" from "abc"." and "Required parameter "Guid id" was not provided ...".
        if (BoundParameter().Match(bad.Message) is { Success: true } parameter)
        {
            var name = parameter.Groups["name"].Value;
            return bad.Message.StartsWith("Required", StringComparison.Ordinal)
                ? (name, "is required")
                : (name, $"must be {Describe(parameter.Groups["type"].Value)}");
        }

        return bad.Message.Contains("no body was provided", StringComparison.Ordinal) ? ("$", "is required (a JSON object)") : null;
    }

    /// <summary>The field a JSON body's refusal is about and what is wrong with it (for a route that reads its body itself).</summary>
    public static (string Field, string Problem) FieldOf(JsonException json)
    {
        // The request as a whole is "$" (its JSON path): "body" would name the field many requests have.
        var field = json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
            : json.Path is { Length: > 1 } indexed && indexed.StartsWith("$[", StringComparison.Ordinal) ? indexed
            : "$";
        var problem = json is FieldProblemException own ? own.Problem
            : NotMapped().Match(json.Message) is { Success: true } unknown ? UnknownProperty(unknown.Groups["name"].Value, unknown.Groups["type"].Value)
            : ConvertedTo().Match(json.Message) is { Success: true } type ? $"must be {Describe(TypeOf(type.Groups["type"].Value, field))}"
            : json.Message.StartsWith("Duplicate property", StringComparison.Ordinal) ? "is given more than once (property names are not case-sensitive)"
            : "is not valid JSON here";
        return (field, problem);
    }

    private static string Describe(string type) => type.TrimEnd('?') switch
    {
        "System.String" or "string" => "a string",
        "System.Int32" or "System.Int64" or "int" or "long" => "a whole number in range",
        "System.Decimal" or "System.Double" or "decimal" or "double" => "a number in range",
        "System.Boolean" or "bool" => "true or false",
        "System.Guid" or "Guid" => "an id (a GUID)",
        "System.DateTime" or "System.DateTimeOffset" or "DateTime" or "DateTimeOffset" => "a date and time (ISO 8601)",
        var map when map.Contains("Dictionary", StringComparison.Ordinal) => "an object",
        var other when other.StartsWith("System.Collections", StringComparison.Ordinal) || other.EndsWith("[]", StringComparison.Ordinal) => "a list",
        _ => "of the documented type",
    };

    [GeneratedRegex(@"converted to (?<type>[\w.`+\[\], =]+?)[.]? Path", RegexOptions.CultureInvariant)]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"property '(?<name>.*)' could not be mapped to any \.NET member contained in type '(?<type>[^']+)'", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex NotMapped();

    /// <summary>
    /// The type a failed value should have had. The serializer names the request type holding it when the request
    /// binds through a constructor (every record here), so the property is looked up there by the field's name.
    /// </summary>
    private static string TypeOf(string named, string field)
    {
        var holder = RequestType(named);
        var name = field[(field.LastIndexOf('.') + 1)..];
        var bracket = name.IndexOf('[', StringComparison.Ordinal);
        var element = bracket > 0;
        name = element ? name[..bracket] : name;
        if (holder?.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is not { } property)
        {
            return named;
        }

        // "warningPercents[1]" is about one entry of the list, not the list.
        var type = element && property.PropertyType.IsGenericType ? property.PropertyType.GetGenericArguments()[^1] : property.PropertyType;
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.FullName ?? type.Name;
    }

    /// <summary>An unknown property, with the request's property it most likely meant when one is a typo away.</summary>
    private static string UnknownProperty(string name, string typeName)
    {
        var known = RequestType(typeName)?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToList() ?? [];
        var squashed = Squash(name);
        var meant = known.Where(k => Squash(k) == squashed).Concat(known.Where(k => Distance(k.ToLowerInvariant(), name.ToLowerInvariant()) <= 2)).FirstOrDefault();
        return meant is null ? "is not a property of this request" : $"is not a property of this request (did you mean '{meant}'?)";

        static string Squash(string s) => new([.. s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);
    }

    private static Type? RequestType(string fullName) =>
        fullName.Length <= 300 && fullName.StartsWith("ProDesk.", StringComparison.Ordinal) ? typeof(ApiInput).Assembly.GetType(fullName) : null;

    /// <summary>Levenshtein distance, for names of a few dozen characters at most.</summary>
    private static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    [GeneratedRegex(@"parameter ""(?<type>[^""]+?) (?<name>[A-Za-z_][A-Za-z0-9_]*)""", RegexOptions.CultureInvariant)]
    private static partial Regex BoundParameter();

    /// <summary>A refusal of this converter's, carrying the words for the problem details.</summary>
    private sealed class FieldProblemException(string problem) : JsonException(problem)
    {
        public string Problem { get; } = problem;
    }

    /// <summary>The framework's string handling plus the NUL check, for values and for property names (dictionary keys).</summary>
    private sealed class NulFreeStringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                throw new FieldProblemException("must be a string");
            }

            return Checked(reader.GetString()!);
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Checked(reader.GetString()!);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

        private static string Checked(string value) => value.Contains('\0', StringComparison.Ordinal) ? throw new FieldProblemException(NulMessage) : value;
    }
}
