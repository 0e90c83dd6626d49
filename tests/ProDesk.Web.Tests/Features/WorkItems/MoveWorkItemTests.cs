using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>
/// An agent moves an item that came in through the wrong door (a billing question in support) to another of the
/// client's queues, or makes it more urgent; the trail says who did, and the SLA deadlines promised on arrival stay.
/// </summary>
public sealed class MoveWorkItemTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> StaffAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task An_agent_moves_an_item_to_another_queue_and_priority_and_its_deadlines_stay()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "move-1", "Invoice 2026-114 is wrong");
        var agent = await StaffAsync("agent1@prodesk.test");
        var before = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(("support", "Normal"), (before.GetProperty("item").GetProperty("queue").GetString(), before.GetProperty("item").GetProperty("priority").GetString()));

        var moved = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/move", new { queue = "billing", priority = "urgent" });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var summary = await BodyAsync(moved);
        Assert.Equal(("billing", "Urgent"), (summary.GetProperty("queue").GetString(), summary.GetProperty("priority").GetString()));

        var after = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        var changes = after.GetProperty("changes").EnumerateArray().Select(c => (c.GetProperty("field").GetString(), c.GetProperty("from").GetString(), c.GetProperty("to").GetString())).ToList();
        Assert.Contains(("queue", "support", "billing"), changes);
        Assert.Contains(("priority", "Normal", "Urgent"), changes);
        Assert.Equal(before.GetProperty("sla").GetProperty("dueAt").GetRawText(), after.GetProperty("sla").GetProperty("dueAt").GetRawText());

        // Moving it where it is changes nothing, and says so with the item as it is.
        var again = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/move", new { queue = "billing" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(summary.GetProperty("version").GetInt32(), (await BodyAsync(again)).GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("""{"queue":"accounts"}""", "queue")]
    [InlineData("""{"priority":"Critical"}""", "priority")]
    [InlineData("""{}""", "queue")]
    public async Task A_queue_the_client_does_not_have_or_a_wrong_priority_is_refused_naming_the_field(string json, string field)
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", $"move-bad-{field}-{json.Length}", "Leaking tap");
        var agent = await StaffAsync("agent1@prodesk.test");
        var response = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/move", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await BodyAsync(response)).GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal("support", (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item").GetProperty("queue").GetString());
    }

    [Fact]
    public async Task Another_clients_queue_is_no_queue_here()
    {
        // merlion has a "secretary" queue too, northwind's queues are its own: a key names a queue of the item's client only.
        var id = await (await App.IntegrationClientAsync("northwind")).CreateConversationAsync("northwind", "move-nw", "Where is my order?");
        var agent = await StaffAsync("agent1@prodesk.test");
        var response = await agent.PostAsJsonAsync($"/api/v1/tenants/northwind/work-items/{id}/move", new { queue = "secretary" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("secretary", (await BodyAsync(response)).GetProperty("errors").GetProperty("queue")[0].GetString()!.Split(':')[1], StringComparison.Ordinal);
    }
}
