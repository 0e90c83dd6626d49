using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Tests.WorkItems;

public sealed class WorkItemPriorityTests
{
    [Theory]
    [InlineData(WorkItemPriority.Low, 0)]
    [InlineData(WorkItemPriority.Normal, 1)]
    [InlineData(WorkItemPriority.High, 2)]
    [InlineData(WorkItemPriority.Urgent, 3)]
    public void The_rank_grows_with_urgency(WorkItemPriority priority, int rank) => Assert.Equal(rank, priority.Rank());

    [Fact]
    public void Urgent_is_the_most_urgent_and_low_the_least()
    {
        var all = Enum.GetValues<WorkItemPriority>();
        Assert.Equal(WorkItemPriority.Urgent, all.MaxBy(p => p.Rank()));
        Assert.Equal(WorkItemPriority.Low, all.MinBy(p => p.Rank()));
        Assert.Equal(all.OrderByDescending(p => p.Rank()), WorkItemPriorities.MostUrgentFirst);
    }

    [Theory]
    [InlineData(WorkItemPriority.Urgent, WorkItemPriority.High, true)]
    [InlineData(WorkItemPriority.High, WorkItemPriority.Normal, true)]
    [InlineData(WorkItemPriority.Normal, WorkItemPriority.Low, true)]
    [InlineData(WorkItemPriority.Low, WorkItemPriority.Urgent, false)]
    [InlineData(WorkItemPriority.High, WorkItemPriority.High, false)]
    public void More_urgent_compares_by_rank(WorkItemPriority a, WorkItemPriority b, bool moreUrgent) =>
        Assert.Equal(moreUrgent, a.IsMoreUrgentThan(b));

    [Theory]
    [InlineData(WorkItemPriority.Low, WorkItemPriority.Normal)]
    [InlineData(WorkItemPriority.Normal, WorkItemPriority.High)]
    [InlineData(WorkItemPriority.High, WorkItemPriority.Urgent)]
    [InlineData(WorkItemPriority.Urgent, WorkItemPriority.Urgent)]
    public void Raising_goes_one_step_up_and_stops_at_urgent(WorkItemPriority before, WorkItemPriority after) =>
        Assert.Equal(after, before.Raised());

    [Fact]
    public void A_value_that_is_not_a_priority_throws_rather_than_sorting_somewhere()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((WorkItemPriority)7).Rank());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((WorkItemPriority)(-1)).Raised());
    }
}
