using ProDesk.Domain.Routing;
using static ProDesk.Domain.Tests.Routing.Build;

namespace ProDesk.Domain.Tests.Routing;

public sealed class RoundRobinRouterTests
{
    private static List<Guid> Deal(RoundRobinRouter router, int times, params AgentProfile[] agents) =>
        Enumerable.Range(0, times).Select(i => router.PickAgent(Item(i), agents)!.Id).ToList();

    [Fact]
    public void Deals_in_turn_by_agent_id_whatever_order_the_agents_come_in()
    {
        var router = new RoundRobinRouter();
        Assert.Equal([Id(1), Id(2), Id(3)], Deal(router, 3, Agent(3), Agent(1), Agent(2)));
    }

    [Fact]
    public void Wraps_around_after_the_last_agent()
    {
        var router = new RoundRobinRouter();
        Assert.Equal([Id(1), Id(2), Id(3), Id(1), Id(2), Id(3), Id(1)], Deal(router, 7, Agent(1), Agent(2), Agent(3)));
    }

    [Fact]
    public void Skips_an_agent_who_went_away_and_resumes_the_turn_when_they_return()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] all = [Agent(1), Agent(2), Agent(3)];
        Assert.Equal(Id(1), router.PickAgent(Item(1), all)!.Id);

        AgentProfile[] twoAway = [Agent(1), Agent(2, status: AgentStatus.Away), Agent(3)];
        Assert.Equal(Id(3), router.PickAgent(Item(2), twoAway)!.Id);
        Assert.Equal(Id(1), router.PickAgent(Item(3), twoAway)!.Id);

        Assert.Equal(Id(2), router.PickAgent(Item(4), all)!.Id);
    }

    [Fact]
    public void Skips_an_agent_who_became_full()
    {
        var router = new RoundRobinRouter();
        Assert.Equal(Id(1), router.PickAgent(Item(1), [Agent(1), Agent(2), Agent(3)])!.Id);
        Assert.Equal(Id(3), router.PickAgent(Item(2), [Agent(1), Agent(2, capacity: 4, load: 4), Agent(3)])!.Id);
    }

    [Fact]
    public void Carries_on_after_the_last_agent_picked_even_if_they_left_the_list()
    {
        var router = new RoundRobinRouter();
        Assert.Equal([Id(1), Id(2)], Deal(router, 2, Agent(1), Agent(2), Agent(3)));
        Assert.Equal(Id(3), router.PickAgent(Item(9), [Agent(1), Agent(3)])!.Id);
    }

    [Fact]
    public void A_newcomer_gets_their_turn_in_id_order()
    {
        var router = new RoundRobinRouter();
        Assert.Equal([Id(1), Id(3)], Deal(router, 2, Agent(1), Agent(3)));
        Assert.Equal([Id(1), Id(2), Id(3)], Deal(router, 3, Agent(1), Agent(2), Agent(3)));
    }

    [Fact]
    public void Away_and_offline_agents_never_get_pushed_work()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] agents = [Agent(1, status: AgentStatus.Away), Agent(2, status: AgentStatus.Offline), Agent(3)];
        Assert.All(Deal(router, 5, agents), id => Assert.Equal(Id(3), id));
        Assert.Null(router.PickAgent(Item(1), agents[..2]));
    }

    [Fact]
    public void Only_agents_serving_the_items_tenant_are_considered()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] agents = [Agent(1, tenants: [TenantB]), Agent(2, tenants: [TenantA, TenantB]), Agent(3, tenants: [TenantB])];
        Assert.Equal(Id(2), router.PickAgent(Item(1, tenant: TenantA), agents)!.Id);
        Assert.Equal(Id(3), router.PickAgent(Item(2, tenant: TenantB), agents)!.Id);
        Assert.Null(router.PickAgent(Item(3, tenant: Id(0xC00)), agents));
    }

    [Fact]
    public void Only_agents_with_every_required_skill_are_considered()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] agents = [Agent(1, skills: ["en"]), Agent(2, skills: ["fr"]), Agent(3, skills: ["fr", "en"])];
        Assert.Equal([Id(2), Id(3), Id(2)], Enumerable.Range(0, 3).Select(i => router.PickAgent(Item(i, skills: ["fr"]), agents)!.Id));
        Assert.Equal(Id(3), router.PickAgent(Item(9, skills: ["fr", "en"]), agents)!.Id);
        Assert.Null(router.PickAgent(Item(10, skills: ["de"]), agents));
    }

    [Fact]
    public void A_chat_does_not_fit_where_an_email_still_does()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] agents = [Agent(1, capacity: 6, load: 4), Agent(2, capacity: 6, load: 3)];
        Assert.Equal([Id(1), Id(2)], new[] { "email", "email" }.Select((c, i) => router.PickAgent(Item(i, channel: c), agents)!.Id));

        // Agent 1 has 2 units left: an email (1) fits, a chat (3) does not.
        Assert.Equal(Id(2), router.PickAgent(Item(7, channel: "chat"), agents)!.Id);
        Assert.Equal(Id(2), router.PickAgent(Item(8, channel: "chat"), agents)!.Id);
        Assert.Null(router.PickAgent(Item(9, channel: "chat"), [agents[0]]));
        Assert.Equal(Id(1), router.PickAgent(Item(10, channel: "email"), [agents[0]])!.Id);
    }

    [Fact]
    public void Configured_weights_decide_what_fits()
    {
        var lighterChats = new RoundRobinRouter(new WorkWeights(new Dictionary<string, int> { ["chat"] = 2 }));
        Assert.Equal(Id(1), lighterChats.PickAgent(Item(1, channel: "chat"), [Agent(1, capacity: 6, load: 4)])!.Id);
    }

    [Fact]
    public void Nobody_eligible_gives_null_and_leaves_the_turn_where_it_was()
    {
        var router = new RoundRobinRouter();
        Assert.Null(router.PickAgent(Item(1), []));
        Assert.Null(router.LastPicked);

        Assert.Equal(Id(1), router.PickAgent(Item(2), [Agent(1), Agent(2)])!.Id);
        Assert.Null(router.PickAgent(Item(3), [Agent(1, status: AgentStatus.Offline)]));
        Assert.Equal(Id(1), router.LastPicked);
        Assert.Equal(Id(2), router.PickAgent(Item(4), [Agent(1), Agent(2)])!.Id);
    }

    [Fact]
    public void The_turn_can_be_saved_and_restored()
    {
        var first = new RoundRobinRouter();
        Deal(first, 2, Agent(1), Agent(2), Agent(3));
        Assert.Equal(Id(2), first.LastPicked);

        var restored = new RoundRobinRouter(lastPicked: first.LastPicked);
        Assert.Equal(Id(3), restored.PickAgent(Item(1), [Agent(1), Agent(2), Agent(3)])!.Id);
    }

    [Fact]
    public void Concurrent_calls_share_the_turn_evenly()
    {
        var router = new RoundRobinRouter();
        AgentProfile[] agents = [Agent(1), Agent(2), Agent(3)];
        var picks = new Guid[300];
        Parallel.For(0, picks.Length, i => picks[i] = router.PickAgent(Item(i), agents)!.Id);
        Assert.All(picks.GroupBy(id => id), group => Assert.Equal(100, group.Count()));
    }
}
