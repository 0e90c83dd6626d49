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
