using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ProDesk.Web.Hosting;

/// <summary>
/// What the generated OpenAPI document cannot see by itself (probe round 12): strings and times go through the API's
/// own JSON converters (<see cref="ApiInput"/>'s NUL check, <see cref="StoredPrecisionTimes"/>), for which the schema
/// exporter writes an empty schema, so a generated client typed every text field as "anything"; and which operations
/// need a bearer token, which it answers 401 without.
/// </summary>
public static class OpenApiDocumentation
{
    private const string Bearer = "bearer";

    public static void Describe(OpenApiOptions options)
    {
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            var nullable = Nullable.GetUnderlyingType(type) is not null || context.JsonPropertyInfo is { IsGetNullable: true } && !type.IsValueType;
            if (type == typeof(string))
            {
                schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
            }
            else if (typeof(IEnumerable<string>).IsAssignableFrom(type) && schema.Items is null)
            {
                schema.Items = new OpenApiSchema { Type = JsonSchemaType.String };
            }
            else if (type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateTime?) || type == typeof(DateTimeOffset?))
            {
                schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
                schema.Format = "date-time";
            }

            return Task.CompletedTask;
        });

        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = Bearer,
                Description = "An OAuth 2.0 access token from /connect/token, or a personal access token (pdk_...).",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            DeclarePathParameters(operation, context.Description.RelativePath);
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            DeclareContract(operation, metadata, context.Description.RelativePath);
            if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
            {
                return Task.CompletedTask;
            }

            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] });
            operation.Responses ??= [];
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid bearer token." });
            // A caller that may not see the tenant or the resource: 404, never 403 (CONTRACT.md).
            operation.Responses.TryAdd("404", new OpenApiResponse { Description = "No such tenant or resource, or not one the caller may see." });
            return Task.CompletedTask;
        });
    }

    /// <summary>Metadata: the route takes the version its caller loaded (body <c>version</c> or If-Match) and refuses a stale one.</summary>
    public sealed class VersionChecked;

    /// <summary>Metadata: the route takes an Idempotency-Key header (a retry is answered, not done again).</summary>
    public sealed class IdempotencyKeyed;

    /// <summary>Metadata: the route's 200 carries the record's version as a strong ETag.</summary>
    public sealed class VersionTagged;

    /// <summary>Metadata: the route's 200 is a file's bytes.</summary>
    public sealed class FileDownload;

    /// <summary>
    /// The route's version check in the document: the If-Match header, 409 (a stale body version, a busy or closed
    /// item) and 412 (a failed If-Match) as problem details. They were said only in prose summaries, so a generated
    /// client had no ifMatch parameter and threw an untyped error on the 409 whose body holds the item as it is now.
    /// </summary>
    public static RouteHandlerBuilder WithVersionCheck(this RouteHandlerBuilder route) =>
        route.WithMetadata(new VersionChecked())
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);

    /// <summary>The Idempotency-Key header and its 422 (the key sent again with another body or item).</summary>
    public static RouteHandlerBuilder WithIdempotencyKey(this RouteHandlerBuilder route) =>
        route.WithMetadata(new IdempotencyKeyed()).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    /// <summary>The ETag header of the route's 200.</summary>
    public static RouteHandlerBuilder WithVersionTag(this RouteHandlerBuilder route) => route.WithMetadata(new VersionTagged());

    /// <summary>The route's 200 (and a range's 206) as bytes: a file result declares no response of its own.</summary>
    public static RouteHandlerBuilder AsFileDownload(this RouteHandlerBuilder route) => route.WithMetadata(new FileDownload());

    private static void DeclareContract(OpenApiOperation operation, IList<object> metadata, string? path)
    {
        operation.Responses ??= [];
        if (metadata.OfType<VersionChecked>().Any())
        {
            AddHeader(operation, "If-Match", "The ETag of the record's GET (its version, such as \"7\"), as an alternative to `version` in the body: the change is refused with 412 when the record is no longer at that version.");
            Describe(operation, "409", "Nothing was changed: the record changed since the `version` named (`reason` \"changed\"), others saved it on every attempt (\"busy\", send again), or the item is closed (\"closed\"), with `current` holding it as it is now and `version` its version; or the change conflicts with another record, which the problem's `field` names.");
            Describe(operation, "412", "Nothing was changed: If-Match named a version the record no longer has; `current` holds it as it is now.");
        }

        if (metadata.OfType<IdempotencyKeyed>().Any())
        {
            AddHeader(operation, "Idempotency-Key", "The caller's own key for this request (1 to 200 printable ASCII characters, such as a UUID): sent again with the same body, it is answered as done (`Idempotent-Replayed: true`) and nothing is sent twice.");
            Describe(operation, "422", "The Idempotency-Key was used by this caller for another item or body; nothing was sent.");
            if (operation.Responses.TryGetValue("200", out var ok) && ok is OpenApiResponse answered)
            {
                answered.Headers ??= new Dictionary<string, IOpenApiHeader>();
                answered.Headers["Idempotent-Replayed"] = new OpenApiHeader { Description = "true when this answers a retry of a request already done.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            }
        }

        if (metadata.OfType<FileDownload>().Any())
        {
            var bytes = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "The file, as a download (Content-Disposition: attachment); its ETag is the SHA-256 of its bytes.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/octet-stream"] = bytes },
                Headers = new Dictionary<string, IOpenApiHeader> { ["ETag"] = new OpenApiHeader { Description = "The bytes' SHA-256, a strong validator for If-Range.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } } },
            };
            operation.Responses.TryAdd("206", new OpenApiResponse
            {
                Description = "The part of the file a Range header asked for.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/octet-stream"] = bytes },
            });
        }

        if (metadata.OfType<VersionTagged>().Any() && operation.Responses.TryGetValue("200", out var found) && found is OpenApiResponse withTag)
        {
            withTag.Headers ??= new Dictionary<string, IOpenApiHeader>();
            withTag.Headers["ETag"] = new OpenApiHeader { Description = "The record's version as a strong entity tag (such as \"7\"), for If-Match on its changes.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        }

        if (path?.StartsWith("api/v1/", StringComparison.OrdinalIgnoreCase) == true)
        {
            operation.Responses.TryAdd("429", new OpenApiResponse
            {
                Description = "The caller (user or integration client) is over its allowance of the API (Api:RateLimit); problem details.",
                Headers = new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = new OpenApiHeader { Description = "Seconds until a request is taken again.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } } },
            });
        }
    }

    private static void AddHeader(OpenApiOperation operation, string name, string description)
    {
        operation.Parameters ??= [];
        if (!operation.Parameters.Any(p => p.In == ParameterLocation.Header && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Header, Required = false, Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    // ProducesProblem names the status only ("Conflict"); the description says when and what the body holds.
    private static void Describe(OpenApiOperation operation, string status, string description)
    {
        if (operation.Responses!.TryGetValue(status, out var response) && response is OpenApiResponse declared)
        {
            declared.Description = description;
        }
    }

    /// <summary>
    /// A route group's {tenant} that the handler does not bind was left out of the operation's parameters, which an
    /// OpenAPI document must declare for every name in the path.
    /// </summary>
    private static void DeclarePathParameters(OpenApiOperation operation, string? template)
    {
        foreach (var segment in (template ?? "").Split('/'))
        {
            if (segment is not ['{', .., '}'])
            {
                continue;
            }

            var name = segment[1..^1].Split(':', '=', '?')[0].TrimStart('*');
            if (operation.Parameters?.Any(p => p.In == ParameterLocation.Path && p.Name == name) == true)
            {
                continue;
            }

            operation.Parameters ??= [];
            operation.Parameters.Insert(0, new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }
}
