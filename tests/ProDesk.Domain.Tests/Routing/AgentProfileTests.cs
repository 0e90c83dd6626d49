using ProDesk.Domain.Routing;
using static ProDesk.Domain.Tests.Routing.Build;

namespace ProDesk.Domain.Tests.Routing;

public sealed class AgentProfileTests
{
    [Theory]
    [InlineData(6, 3, 3, true)]
    [InlineData(6, 4, 3, false)]
    [InlineData(6, 5, 1, true)]
    [InlineData(6, 6, 1, false)]
    [InlineData(0, 0, 1, false)]
    public void Room_is_capacity_minus_load_against_the_items_weight(int capacity, int load, int weight, bool fits) =>
        Assert.Equal(fits, Agent(1, capacity, load).HasRoomFor(weight));

    [Fact]
    public void Free_capacity_never_goes_negative_when_capacity_was_lowered_below_the_load()
    {
        Assert.Equal(4, Agent(1, capacity: 6, load: 2).FreeCapacity);
        Assert.Equal(0, Agent(1, capacity: 2, load: 5).FreeCapacity);
    }

    [Fact]
    public void Negative_capacity_or_load_is_refused_also_through_with()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Agent(1, capacity: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Agent(1, load: -1));
        var agent = Agent(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => agent with { CurrentLoad = -2 });
        Assert.Equal(4, (agent with { CurrentLoad = 4 }).CurrentLoad);
    }

    [Theory]
    [InlineData(AgentStatus.Online, true)]
    [InlineData(AgentStatus.Away, false)]
    [InlineData(AgentStatus.Offline, false)]
    public void Only_an_online_agent_can_be_pushed_work(AgentStatus status, bool pushed)
    {
        var agent = Agent(1, status: status);
        Assert.Equal(pushed, agent.CanBePushed(Item(1), 1));
        Assert.True(agent.CanPull(Item(1)));
    }

    [Fact]
    public void An_agent_whose_status_was_never_set_counts_as_offline()
    {
        Assert.Equal(AgentStatus.Offline, default);
    }

    [Fact]
    public void Every_required_skill_is_needed_and_extra_skills_do_no_harm()
    {
        var agent = Agent(1, skills: ["fr", "en", "invoices"]);
        Assert.True(agent.HasSkills([]));
        Assert.True(agent.HasSkills(["fr"]));
        Assert.True(agent.HasSkills(["FR", "Invoices"]));
        Assert.False(agent.HasSkills(["fr", "de"]));
    }
}
