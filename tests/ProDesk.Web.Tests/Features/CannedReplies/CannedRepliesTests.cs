using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.CannedReplies;

/// <summary>Supervisors write a tenant's canned replies; agents insert them filled in for the item at hand.</summary>
public sealed class CannedRepliesTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> AsAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static async Task<Guid> CreateAsync(HttpClient supervisor, string slug, string title, string body, string? shortcut = null)
    {
        var response = await supervisor.PostAsJsonAsync($"/api/v1/tenants/{slug}/canned-replies", new { title, body, shortcut });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await BodyAsync(response)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task Supervisors_write_canned_replies_and_agents_read_them()
    {
        var supervisor = await AsAsync("supervisor@prodesk.test");
        var agent = await AsAsync("agent2@prodesk.test");

        var created = await supervisor.PostAsJsonAsync("/api/v1/tenants/acme/canned-replies", new { title = "Refund policy", body = "Refunds take 5 days.", shortcut = "Refund" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await BodyAsync(created)).GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/tenants/acme/canned-replies/{id}", created.Headers.Location?.OriginalString);
        await CreateAsync(supervisor, "acme", "Opening hours", "We are open 9 to 5.");

        var list = await agent.JsonAsync("/api/v1/tenants/acme/canned-replies");
        Assert.Equal(["Opening hours", "Refund policy"], list.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("title").GetString()));
        Assert.Contains("contact.name", list.GetProperty("placeholders").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["Refund policy"], (await agent.JsonAsync("/api/v1/tenants/acme/canned-replies?q=refund")).GetProperty("items").EnumerateArray().Select(c => c.GetProperty("title").GetString()));
        Assert.Equal("refund", (await agent.JsonAsync($"/api/v1/tenants/acme/canned-replies/{id}")).GetProperty("shortcut").GetString());

        // Agents read, they do not write: to them the writing routes do not exist.
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PostAsJsonAsync("/api/v1/tenants/acme/canned-replies", new { title = "Mine", body = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/canned-replies/{id}", new { title = "Mine", body = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.DeleteAsync($"/api/v1/tenants/acme/canned-replies/{id}")).StatusCode);

        var duplicate = await supervisor.PostAsJsonAsync("/api/v1/tenants/acme/canned-replies", new { title = "Other", body = "x", shortcut = "refund" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("shortcut", (await BodyAsync(duplicate)).GetProperty("field").GetString());
        // Shortcuts are per tenant.
        await CreateAsync(supervisor, "northwind", "Refunds", "Northwind refunds.", "refund");

        var invalid = await supervisor.PostAsJsonAsync("/api/v1/tenants/acme/canned-replies", new { title = " ", body = new string('x', 20_001), shortcut = "no spaces" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["body", "shortcut", "title"], (await BodyAsync(invalid)).GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());

        var updated = await supervisor.PutAsJsonAsync($"/api/v1/tenants/acme/canned-replies/{id}", new { title = "Refunds", body = "Refunds take 3 days." });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var after = await agent.JsonAsync($"/api/v1/tenants/acme/canned-replies/{id}");
        Assert.Equal(("Refunds", "Refunds take 3 days.", JsonValueKind.Null, "supervisor@prodesk.test"),
            (after.GetProperty("title").GetString(), after.GetProperty("body").GetString(), after.GetProperty("shortcut").ValueKind, after.GetProperty("updatedBy").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await supervisor.DeleteAsync($"/api/v1/tenants/acme/canned-replies/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/canned-replies/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_canned_reply_renders_for_the_item_with_a_hostile_name_inserted_as_plain_text()
    {
        var supervisor = await AsAsync("supervisor@prodesk.test");
        const string hostile = "<script>alert('x')</script> {{agent.name}}";
        var integration = await App.IntegrationClientAsync("acme");
        // The API channel names its contact as the request says.
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "eve@example.com", name = hostile, subject = "Broken boiler", body = "x", externalId = "hostile-1" });
        var eveItem = (await BodyAsync(created)).GetProperty("id").GetGuid();
        // A placeholder the desk does not know would reach the customer as typed: refused when saved, naming the body.
        var refused = await supervisor.PostAsJsonAsync("/api/v1/tenants/acme/canned-replies", new { title = "Boiler", body = "Hi {{contact.pasword}} {{ unknown.thing }}" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = (await BodyAsync(refused)).GetProperty("errors").GetProperty("body")[0].GetString();
        Assert.Contains("{{contact.pasword}}, {{unknown.thing}}", error, StringComparison.Ordinal);
        Assert.Contains("{{contact.name}}", error, StringComparison.Ordinal);

        var cannedId = await CreateAsync(supervisor, "acme", "Boiler",
            "Hello {{contact.name}} ({{ contact.email }}),\nabout \"{{item.subject}}\" [{{item.reference}}]: {not one}\n{{agent.name}}, {{tenant.name}}");

        var agent = await AsAsync("agent1@prodesk.test");
        var rendered = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{eveItem}/canned-replies/{cannedId}/rendered");

        Assert.Equal($"Hello {hostile} (eve@example.com),\nabout \"Broken boiler\" [{eveItem}]: {{not one}}\nAlex Martin, Acme Plomberie SAS", rendered.GetProperty("body").GetString());
        Assert.Empty(rendered.GetProperty("unknown").EnumerateArray());
        Assert.Empty(rendered.GetProperty("missing").EnumerateArray());
    }

    [Fact]
    public async Task Another_tenants_canned_reply_or_item_is_not_found()
    {
        var supervisor = await AsAsync("supervisor@prodesk.test");
        var acmeCanned = await CreateAsync(supervisor, "acme", "Hello", "Hi {{contact.name}}");
        var northwindCanned = await CreateAsync(supervisor, "northwind", "Northwind secret", "Internal pricing: 42");
        var acmeItem = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "a-1");
        var northwindItem = await (await App.IntegrationClientAsync("northwind")).CreateConversationAsync("northwind", "n-1");
        // agent2 serves both: the route's tenant decides.
        var agent = await AsAsync("agent2@prodesk.test");

        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/work-items/{acmeItem}/canned-replies/{northwindCanned}/rendered")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/work-items/{northwindItem}/canned-replies/{acmeCanned}/rendered")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/canned-replies/{northwindCanned}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await supervisor.PutAsJsonAsync($"/api/v1/tenants/acme/canned-replies/{northwindCanned}", new { title = "x", body = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await supervisor.DeleteAsync($"/api/v1/tenants/acme/canned-replies/{northwindCanned}")).StatusCode);
        Assert.DoesNotContain("Northwind secret", await agent.GetStringAsync("/api/v1/tenants/acme/canned-replies"), StringComparison.Ordinal);
        Assert.Equal("Internal pricing: 42", (await agent.JsonAsync($"/api/v1/tenants/northwind/canned-replies/{northwindCanned}")).GetProperty("body").GetString());
    }
}
