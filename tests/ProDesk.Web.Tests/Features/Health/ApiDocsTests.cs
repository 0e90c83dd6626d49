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
