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
