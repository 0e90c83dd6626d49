using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>The agent console's queue as an agent reads it: who has each item, and whether the list is cut.</summary>
public sealed partial class AgentQueuePageTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task The_queue_names_who_has_an_item_and_says_when_more_are_waiting_than_it_shows()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        async Task<string> QueueAsync() => await agent.GetStringAsync("/agent?handler=Queue");

        (await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "a@example.fr", subject = "First", body = "b", externalId = "q-0" })).EnsureSuccessStatusCode();
        var pat = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await pat.PostAsync("/api/v1/work/next", null)).EnsureSuccessStatusCode();
        var one = await QueueAsync();
        Assert.Contains("<td>Alex Martin</td>", one, StringComparison.Ordinal);
        Assert.DoesNotContain("queue-more", one, StringComparison.Ordinal);

        for (var i = 1; i <= 200; i++)
        {
            (await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "a@example.fr", subject = $"Item {i}", body = "b", externalId = $"q-{i}" })).EnsureSuccessStatusCode();
        }

        var full = await QueueAsync();
        Assert.Equal(200, Row().Count(full));
        Assert.Contains("data-testid=\"queue-more\"", full, StringComparison.Ordinal);
    }

    [GeneratedRegex("<tr data-item-id=")]
    private static partial Regex Row();
}
