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
