using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>Taking, handing over and releasing items, and a reply taking unassigned work (probe round 19).</summary>
public sealed class AssignWorkItemTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<Guid> ItemAsync(string slug, string externalId) =>
        await (await App.IntegrationClientAsync(slug)).CreateConversationAsync(slug, externalId, $"{slug} {externalId}");

    private async Task<HttpClient> StaffAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> ItemOfAsync(HttpClient client, string slug, Guid id) => await client.JsonAsync($"/api/v1/tenants/{slug}/work-items/{id}");

    private static Guid? AssigneeOf(JsonElement item) =>
        item.GetProperty("item").GetProperty("assigneeId") is { ValueKind: JsonValueKind.String } a ? a.GetGuid() : null;

    [Fact]
    public async Task Replying_to_an_unassigned_item_assigns_it_to_the_replier_so_next_item_does_not_hand_it_to_a_colleague()
    {
        var id = await ItemAsync("acme", "reply-takes-1");
        var alex = await StaffAsync("agent1@prodesk.test");
        (await alex.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "On it." })).EnsureSuccessStatusCode();

        var item = await ItemOfAsync(alex, "acme", id);
        var alexId = (await App.UserAsync("agent1@prodesk.test")).Id;
        Assert.Equal(alexId, AssigneeOf(item));
        // The trail names people (the API reads ids into names), as a claim's row does.
        Assert.Contains(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "assignee" && c.GetProperty("to").GetString() == "Alex Martin");

        // The customer answers: the item is Open again, and still Alex's.
        (await alex.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Open" })).EnsureSuccessStatusCode();
        var bea = await StaffAsync("agent2@prodesk.test");
        var next = await bea.PostAsync("/api/v1/work/next", null);
        Assert.True(next.StatusCode == HttpStatusCode.NoContent || (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid() != id);
    }

    [Fact]
    public async Task An_agent_takes_an_unassigned_item_and_releases_it_but_cannot_take_a_colleagues()
    {
        var id = await ItemAsync("acme", "take-1");
        var alex = await StaffAsync("agent1@prodesk.test");
        var alexId = (await App.UserAsync("agent1@prodesk.test")).Id;
        var taken = await alex.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = alexId });
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        Assert.Equal(alexId, (await taken.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("assigneeId").GetGuid());

        var bea = await StaffAsync("agent2@prodesk.test");
        var beaId = (await App.UserAsync("agent2@prodesk.test")).Id;
        var grab = await bea.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = beaId });
        Assert.Equal(HttpStatusCode.Conflict, grab.StatusCode);
        var handOver = await alex.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = beaId });
        Assert.Equal(HttpStatusCode.BadRequest, handOver.StatusCode);
        Assert.True((await handOver.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("assigneeId", out _));

        var released = await alex.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = (Guid?)null });
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        Assert.Null(AssigneeOf(await ItemOfAsync(alex, "acme", id)));
    }

    [Fact]
    public async Task A_supervisor_hands_an_item_to_staff_serving_the_client_only()
    {
        var id = await ItemAsync("acme", "hand-1");
        var supervisor = await StaffAsync("supervisor@prodesk.test");
        var bea = (await App.UserAsync("agent2@prodesk.test")).Id;     // acme, northwind
        var carol = (await App.UserAsync("agent3@prodesk.test")).Id;   // merlion, sla-lab
        var client = (await App.UserAsync("admin@acme.test")).Id;

        Assert.Equal(HttpStatusCode.OK, (await supervisor.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = bea })).StatusCode);
        var item = await ItemOfAsync(supervisor, "acme", id);
        Assert.Equal(bea, AssigneeOf(item));
        Assert.Contains(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "assignee" && c.GetProperty("to").GetString() == "Bea Dubois"
            && c.GetProperty("actor").GetString() == "supervisor@prodesk.test");

        foreach (var stranger in new[] { carol, client, Guid.NewGuid() })
        {
            var refused = await supervisor.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = stranger });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("assigneeId", out _));
        }

        Assert.Equal(bea, AssigneeOf(await ItemOfAsync(supervisor, "acme", id)));
        // Another tenant's item under this tenant's route: not found.
        var northwind = await ItemAsync("northwind", "hand-2");
        Assert.Equal(HttpStatusCode.NotFound, (await supervisor.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{northwind}/assignee", new { assigneeId = bea })).StatusCode);
    }
}
