using ProDesk.Domain.Routing;
using static ProDesk.Domain.Tests.Routing.Build;

namespace ProDesk.Domain.Tests.Routing;

public sealed class LeastLoadedRouterTests
{
    private readonly LeastLoadedRouter _router = new();

    [Fact]
    public void Picks_the_agent_with_the_lowest_load()
    {
        Assert.Equal(Id(2), _router.PickAgent(Item(1), [Agent(1, load: 5), Agent(2, load: 2), Agent(3, load: 7)])!.Id);
    }

    [Fact]
    public void Compares_load_ratios_not_absolute_loads()
    {
        // 4 of 10 (40%) is less busy than 2 of 4 (50%), though 4 > 2.
        Assert.Equal(Id(1), _router.PickAgent(Item(1), [Agent(1, capacity: 10, load: 4), Agent(2, capacity: 4, load: 2)])!.Id);

        // And the other way round: 3 of 10 (30%) beats 1 of 2 (50%).
        Assert.Equal(Id(2), _router.PickAgent(Item(2), [Agent(1, capacity: 2, load: 1), Agent(2, capacity: 10, load: 3)])!.Id);
    }

    [Fact]
    public void Equal_ratios_tie_exactly_and_the_lowest_id_wins()
    {
        // 3/9, 2/6 and 1/3 are one ratio, so the id decides, whatever order the agents come in.
        AgentProfile[] agents = [Agent(3, capacity: 9, load: 3), Agent(2, capacity: 6, load: 2), Agent(4, capacity: 3, load: 1)];
        Assert.Equal(Id(2), _router.PickAgent(Item(1), agents)!.Id);
        Assert.Equal(Id(2), _router.PickAgent(Item(1), agents.Reverse())!.Id);
    }

    [Fact]
    public void Idle_agents_tie_and_the_lowest_id_wins()
    {
        Assert.Equal(Id(1), _router.PickAgent(Item(1), [Agent(5), Agent(1, capacity: 3), Agent(9, capacity: 50)])!.Id);
    }

    [Fact]
    public void Is_stateless_so_the_same_loads_give_the_same_agent()
    {
        AgentProfile[] agents = [Agent(1, load: 1), Agent(2)];
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(Id(2), _router.PickAgent(Item(i), agents)!.Id));
    }

    [Fact]
    public void Away_and_offline_agents_never_get_pushed_work_however_idle()
    {
        AgentProfile[] agents = [Agent(1, status: AgentStatus.Away), Agent(2, status: AgentStatus.Offline), Agent(3, load: 9)];
        Assert.Equal(Id(3), _router.PickAgent(Item(1), agents)!.Id);
        Assert.Null(_router.PickAgent(Item(1), agents[..2]));
    }

    [Fact]
    public void Only_agents_serving_the_tenant_and_having_the_skills_are_considered()
    {
        AgentProfile[] agents =
        [
            Agent(1, tenants: [TenantB], skills: ["fr"]),
            Agent(2, load: 8, skills: ["fr"]),
            Agent(3, skills: ["en"]),
        ];
        Assert.Equal(Id(2), _router.PickAgent(Item(1, tenant: TenantA, skills: ["fr"]), agents)!.Id);
        Assert.Equal(Id(1), _router.PickAgent(Item(2, tenant: TenantB, skills: ["fr"]), agents)!.Id);
        Assert.Null(_router.PickAgent(Item(3, tenant: TenantB, skills: ["en"]), agents));
    }

    [Fact]
    public void A_chat_does_not_fit_where_an_email_still_does()
    {
        // The least loaded agent has 2 of 6 units left: an email goes to them, a chat to the busier agent with room.
        AgentProfile[] agents = [Agent(1, capacity: 6, load: 4), Agent(2, capacity: 10, load: 7)];
        Assert.Equal(Id(1), _router.PickAgent(Item(1, channel: "email"), agents)!.Id);
        Assert.Equal(Id(2), _router.PickAgent(Item(2, channel: "chat"), agents)!.Id);
        Assert.Null(_router.PickAgent(Item(3, channel: "chat"), [agents[0]]));
    }

    [Fact]
    public void An_agent_over_a_lowered_capacity_gets_nothing()
    {
        Assert.Null(_router.PickAgent(Item(1), [Agent(1, capacity: 2, load: 5), Agent(2, capacity: 0)]));
    }

    [Fact]
    public void Nobody_to_choose_from_gives_null()
    {
        Assert.Null(_router.PickAgent(Item(1), []));
    }

    [Fact]
    public void Both_push_modes_refuse_the_same_agents()
    {
        IPushRouter[] routers = [new RoundRobinRouter(), new LeastLoadedRouter()];
        // Each agent fails on exactly one ground: presence, tenant, skill, room for a chat.
        AgentProfile[] nobodyEligible =
        [
            Agent(1, status: AgentStatus.Away, skills: ["fr"]),
            Agent(2, tenants: [TenantB], skills: ["fr"]),
            Agent(3, skills: ["en"]),
            Agent(4, capacity: 3, load: 1, skills: ["fr"]),
        ];
        var chatInFrench = Item(1, channel: "chat", skills: ["fr"]);
        Assert.All(routers, router => Assert.Equal(Id(5), router.PickAgent(chatInFrench, [.. nobodyEligible, Agent(5, skills: ["fr"])])!.Id));
        Assert.All(routers, router => Assert.Null(router.PickAgent(chatInFrench, nobodyEligible)));
    }
}
