using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>A tenant's custom fields on work items: definitions from the tenant, values checked against them.</summary>
public static class CustomFields
{
    public static readonly IReadOnlyList<string> Types = ["text", "number", "date", "choice"];

    /// <summary>Fields at fault an answer names at most.</summary>
    private const int MaxErrors = 50;

    public static IReadOnlyList<CustomFieldDefinition> Of(TenantInfo tenant) =>
        JsonSerializer.Deserialize<List<CustomFieldDefinition>>(tenant.FieldsJson, JsonSerializerOptions.Web) ?? [];

    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Merges <paramref name="values"/> into <paramref name="currentJson"/>; null removes a value. Errors name the field.</summary>
    public static (string? Json, Dictionary<string, string[]> Errors) Apply(TenantInfo tenant, string currentJson, IReadOnlyDictionary<string, JsonElement>? values)
    {
        var errors = new Dictionary<string, string[]>();
        var definitions = Of(tenant).ToDictionary(d => d.Key, StringComparer.Ordinal);
        var result = JsonNode.Parse(currentJson) as JsonObject ?? [];
        foreach (var (key, value) in values ?? new Dictionary<string, JsonElement>())
        {
            if (errors.Count == MaxErrors)
            {
                // A small request must not buy a large answer: a body of 400,000 wrong keys named every one.
                errors["fields"] = [$"has more fields at fault than the {MaxErrors} named here"];
                break;
            }

            var name = $"fields.{key}";
            if (!definitions.TryGetValue(key, out var definition))
            {
                errors[name] = ["is not a custom field of this client"];
                continue;
            }

            if (value.ValueKind == JsonValueKind.Null)
            {
                if (definition.Required)
                {
                    errors[name] = ["is required"];
                }
                else
                {
                    result.Remove(key);
                }

                continue;
            }

            // A lone surrogate (\ud800) parses as JSON but is no text: refused as not text, never a 500.
            var text = value.ValueKind == JsonValueKind.String ? StringOf(value) : null;
            switch (definition.Type)
            {
                // Past decimal's range (1e29) or so small it would be kept as 0 (1e-29, 1e-400): refused, saying why.
                case "number" when value.ValueKind == JsonValueKind.Number && (!value.TryGetDecimal(out var number) || (number == 0 && HasNonZeroDigit(value.GetRawText()))):
                    errors[name] = ["must be a number from -7.9e28 to 7.9e28, with at most 28 decimal places"];
                    break;
                case "number" when value.ValueKind == JsonValueKind.Number:
                    result[key] = value.GetDecimal();
                    break;
                case "text" when text is { Length: <= 1000 } && !text.Contains('\0', StringComparison.Ordinal):
                    // One line, as the console shows it: no terminal or bidi controls (Channels.PlainText).
                    result[key] = Channels.PlainText.Line(text);
                    break;
                case "date" when text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                    result[key] = text;
                    break;
                case "choice" when text is not null && definition.Choices.Contains(text):
                    result[key] = text;
                    break;
                default:
                    errors[name] = [definition.Type switch
                    {
                        "number" => "must be a number",
                        "date" => "must be a date like 2026-12-31",
                        "choice" => $"must be one of {string.Join(", ", definition.Choices)}",
                        _ => "must be text of at most 1000 characters, without NUL",
                    }];
                    break;
            }
        }

        // Stored as written, not as \u escapes: the trail shows this text to people ("é日本", not "\u00E9\u65E5\u672C").
        // Pages encode it where they show it, as any text.
        return (errors.Count == 0 ? result.ToJsonString(ReadableJson) : null, errors);
    }

    /// <summary>A JSON string's text, or null when it is not valid UTF-16 (a lone surrogate escape).</summary>
    private static string? StringOf(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Whether a JSON number's digits (before any exponent) are not all zero.</summary>
    private static bool HasNonZeroDigit(string raw) => raw.TakeWhile(c => c is not ('e' or 'E')).Any(c => c is >= '1' and <= '9');
}
