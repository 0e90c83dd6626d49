using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>Pull mode: each call claims one more item, never the same item twice, to one agent or to two.</summary>
public sealed class ClaimNextItemTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task SeedAsync(string slug, int count)
    {
        var client = await App.IntegrationClientAsync(slug);
        for (var i = 0; i < count; i++)
        {
            await client.CreateConversationAsync(slug, $"{slug}-{i}", $"{slug} {i}");
        }
    }

    [Fact]
    public async Task Concurrent_agents_never_get_the_same_item_and_everything_gets_claimed()
    {
        await SeedAsync("acme", 20);
        await SeedAsync("northwind", 20);
        var agents = new List<HttpClient>();
        foreach (var email in new[] { "agent1@prodesk.test", "agent2@prodesk.test", "agent1@prodesk.test", "agent2@prodesk.test", "agent4@prodesk.test", "agent1@prodesk.test" })
        {
            agents.Add(App.CreateClient().WithBearer((await App.PatAsync(email)).Secret));
        }

        var claimed = new ConcurrentBag<Guid>();
        await Task.WhenAll(agents.Select(async agent =>
        {
            for (var round = 0; round < 40; round++)
            {
                var response = await agent.PostAsync("/api/v1/work/next", null);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    return;
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                claimed.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
            }
        }));

        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Distinct().Count());
        Assert.Equal(HttpStatusCode.NoContent, (await agents[0].PostAsync("/api/v1/work/next", null)).StatusCode);
    }

    [Fact]
    public async Task An_agent_claims_only_from_the_tenants_it_serves_most_urgent_first()
    {
        await SeedAsync("acme", 2);
        await SeedAsync("merlion", 1);
        var agent3 = App.CreateClient().WithBearer((await App.PatAsync("agent3@prodesk.test")).Secret);
        var first = JsonDocument.Parse(await (await agent3.PostAsync("/api/v1/work/next", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("merlion 0", first.GetProperty("subject").GetString());
        // The claim may come from any tenant served: the answer names it, so the console can open the item.
        Assert.Equal("merlion", first.GetProperty("tenant").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await agent3.PostAsync("/api/v1/work/next", null)).StatusCode);

        var agent2 = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);
        var oldest = JsonDocument.Parse(await (await agent2.PostAsync("/api/v1/work/next?kind=Conversation", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("acme 0", "acme"), (oldest.GetProperty("subject").GetString(), oldest.GetProperty("tenant").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await agent2.PostAsync("/api/v1/work/next?kind=Invoice", null)).StatusCode);
    }
    [Fact]
    public async Task Claims_made_together_each_respect_their_own_agents_skills()
    {
        // The supervisor and agent1 serve the same tenants, so their claims share statements; acme's support queue
        // needs French, which only agent1 has.
        await SeedAsync("acme", 10);
        await SeedAsync("merlion", 10);
        var supervisorToken = (await App.PatAsync("supervisor@prodesk.test")).Secret;
        var agent1Token = (await App.PatAsync("agent1@prodesk.test")).Secret;
        var claims = new ConcurrentBag<(string Who, string Tenant, Guid Id)>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            var (who, token) = i % 2 == 0 ? ("supervisor", supervisorToken) : ("agent1", agent1Token);
            var agent = App.CreateClient().WithBearer(token);
            while (true)
            {
                var response = await agent.PostAsync("/api/v1/work/next", null);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    return;
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var item = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                claims.Add((who, item.GetProperty("tenant").GetString()!, item.GetProperty("id").GetGuid()));
            }
        }));

        Assert.Equal(20, claims.Select(c => c.Id).Distinct().Count());
        Assert.Equal(20, claims.Count);
        Assert.DoesNotContain(claims, c => c.Who == "supervisor" && c.Tenant == "acme");
        Assert.Equal(10, claims.Count(c => c.Tenant == "acme"));
    }
}
