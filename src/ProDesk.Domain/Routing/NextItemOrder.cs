using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Routing;

/// <summary>
/// The order of "next item" (pull mode) and of the agent's unified queue: higher priority first,
/// then the earliest SLA deadline (items with none after those with one), then the oldest, then by
/// id. The id makes the order total, so two agents, the console and the SQL claim query all agree
/// on which item is next even when everything else ties.
/// </summary>
/// <remarks>
/// <see cref="Guid.CompareTo(Guid)"/> orders ids as their text (<c>ToString()</c>) orders, which is
/// how PostgreSQL orders <c>uuid</c> and SQLite orders the text EF Core stores, so a SQL
/// <c>ORDER BY priority DESC, due_at NULLS LAST, created_at, id</c> agrees with this comparer.
/// As <see cref="IComparer{T}"/> requires, a null candidate sorts before any candidate.
/// </remarks>
public sealed class NextItemOrder : IComparer<RoutingCandidate>
{
    public static NextItemOrder Instance { get; } = new();

    private NextItemOrder()
    {
    }

    public int Compare(RoutingCandidate? x, RoutingCandidate? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var byPriority = y.Priority.Rank().CompareTo(x.Priority.Rank());
        if (byPriority != 0)
        {
            return byPriority;
        }

        var byDue = (x.DueAt, y.DueAt) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            ({ } a, { } b) => a.CompareTo(b),
        };
        if (byDue != 0)
        {
            return byDue;
        }

        var byAge = x.CreatedAt.CompareTo(y.CreatedAt);
        return byAge != 0 ? byAge : x.Id.CompareTo(y.Id);
    }

    /// <summary>
    /// The item <paramref name="agent"/> should take next: the first in this order among the items
    /// of tenants the agent serves whose required skills the agent has; null when none qualifies.
    /// </summary>
    public static RoutingCandidate? PickNext(IEnumerable<RoutingCandidate> items, AgentProfile agent)
    {
        RoutingCandidate? best = null;
        foreach (var item in items)
        {
            if (agent.CanPull(item) && (best is null || Instance.Compare(item, best) < 0))
            {
                best = item;
            }
        }

        return best;
    }
}
