using System.Net;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Health;

public sealed class ApiDocsTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task The_openapi_document_is_served_as_json()
    {
        using var json = JsonDocument.Parse(await App.CreateClient().GetStringAsync("/openapi/v1.json"));
        Assert.StartsWith("3.", json.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        // Each body is described as itself: a client generated from the document must not send a contact an SLA policy.
        string SchemaOf(string path, string method) => json.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method)
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!;
        var contact = SchemaOf("/api/v1/tenants/{tenant}/contacts/{id}", "put");
        var canned = SchemaOf("/api/v1/tenants/{tenant}/canned-replies", "post");
        Assert.NotEqual(contact, canned);
        var schemas = json.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty(contact.Split('/')[^1]).GetProperty("properties").TryGetProperty("phone", out _), contact);
        Assert.True(schemas.GetProperty(canned.Split('/')[^1]).GetProperty("properties").TryGetProperty("shortcut", out _), canned);
    }

    [Fact]
    public async Task A_client_generated_from_the_document_knows_its_fields_types_and_which_calls_need_a_token()
    {
        using var json = JsonDocument.Parse(await App.CreateClient().GetStringAsync("/openapi/v1.json"));
        var item = json.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("WorkItemSummary").GetProperty("properties");
        Assert.Equal("string", item.GetProperty("subject").GetProperty("type").GetString());
        Assert.Equal(["null", "string"], item.GetProperty("externalId").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("string", item.GetProperty("updatedAt").GetProperty("type").GetString());
        Assert.Equal("date-time", item.GetProperty("updatedAt").GetProperty("format").GetString());
        Assert.Equal("string", item.GetProperty("tags").GetProperty("items").GetProperty("type").GetString());

        var paths = json.RootElement.GetProperty("paths");
        var list = paths.GetProperty("/api/v1/tenants/{tenant}/work-items").GetProperty("get");
        Assert.Equal("string", list.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "tenant").GetProperty("schema").GetProperty("type").GetString());
        Assert.True(list.GetProperty("security")[0].TryGetProperty("bearer", out _));
        Assert.True(list.GetProperty("responses").TryGetProperty("401", out _));
        Assert.True(list.GetProperty("responses").TryGetProperty("404", out _));
        Assert.Equal("bearer", json.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        // The mail gateway's route takes the tenant's inbound key, not a bearer token.
        Assert.False(paths.GetProperty("/channels/email/{tenant}/inbound").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task A_generated_client_knows_the_version_check_the_idempotency_key_the_etag_and_the_files_bytes()
    {
        using var json = JsonDocument.Parse(await App.CreateClient().GetStringAsync("/openapi/v1.json"));
        var paths = json.RootElement.GetProperty("paths");
        JsonElement Operation(string path, string method) => paths.GetProperty(path).GetProperty(method);
        static string[] Responses(JsonElement operation) => [.. operation.GetProperty("responses").EnumerateObject().Select(r => r.Name)];
        static string[] Headers(JsonElement operation) => [.. operation.GetProperty("parameters").EnumerateArray()
            .Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()!)];

        var reply = Operation("/api/v1/tenants/{tenant}/work-items/{id}/replies", "post");
        Assert.Superset(new HashSet<string> { "200", "400", "401", "404", "409", "412", "422", "429" }, Responses(reply).ToHashSet());
        Assert.Equal(["Idempotency-Key", "If-Match"], Headers(reply).Order(StringComparer.Ordinal));
        // The 409's body is problem details (holding the item as it is now), not an undocumented status.
        Assert.True(reply.GetProperty("responses").GetProperty("409").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.True(reply.GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("Idempotent-Replayed", out _));
        foreach (var (path, method) in new[]
        {
            ("/api/v1/tenants/{tenant}/work-items/{id}/status", "post"), ("/api/v1/tenants/{tenant}/work-items/{id}/notes", "post"),
            ("/api/v1/tenants/{tenant}/work-items/{id}/tags", "put"), ("/api/v1/tenants/{tenant}/work-items/{id}/fields", "put"),
            ("/api/v1/tenants/{tenant}/work-items/{id}/merge", "post"), ("/api/v1/tenants/{tenant}/work-items/{id}/attachments", "post"),
            ("/api/v1/tenants/{tenant}/contacts/{id}", "put"),
        })
        {
            var change = Operation(path, method);
            Assert.Superset(new HashSet<string> { "409", "412" }, Responses(change).ToHashSet());
            Assert.Equal(["If-Match"], Headers(change));
        }

        foreach (var path in new[] { "/api/v1/tenants/{tenant}/work-items/{id}", "/api/v1/tenants/{tenant}/contacts/{id}" })
        {
            Assert.True(Operation(path, "get").GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("ETag", out _), path);
        }

        var download = Operation("/api/v1/tenants/{tenant}/work-items/{id}/attachments/{attachmentId}", "get").GetProperty("responses");
        Assert.Equal("binary", download.GetProperty("200").GetProperty("content").GetProperty("application/octet-stream").GetProperty("schema").GetProperty("format").GetString());
        Assert.True(download.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
    }

    [Fact]
    public async Task The_api_reference_is_browsable_without_any_cdn()
    {
        var response = await App.CreateClient().GetAsync("/api/docs/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("ProDesk API", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cdn.jsdelivr.net", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().GetAsync("/api/docs/scalar.js")).StatusCode);
    }
}
