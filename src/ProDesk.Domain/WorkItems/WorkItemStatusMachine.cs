namespace ProDesk.Domain.WorkItems;

/// <summary>A status move that the state machine allows.</summary>
public sealed record StatusChange(WorkItemStatus From, WorkItemStatus To);

/// <summary>The allowed status moves of a work item.</summary>
public static class WorkItemStatusMachine
{
    private static readonly Dictionary<WorkItemStatus, WorkItemStatus[]> Moves = new()
    {
        [WorkItemStatus.Open] = [WorkItemStatus.Pending, WorkItemStatus.OnHold, WorkItemStatus.Solved],
        [WorkItemStatus.Pending] = [WorkItemStatus.Open, WorkItemStatus.OnHold, WorkItemStatus.Solved],
        [WorkItemStatus.OnHold] = [WorkItemStatus.Open, WorkItemStatus.Pending, WorkItemStatus.Solved],
        [WorkItemStatus.Solved] = [WorkItemStatus.Open, WorkItemStatus.Closed],
        [WorkItemStatus.Closed] = [],
    };

    public static IReadOnlyList<WorkItemStatus> MovesFrom(WorkItemStatus from) => Moves[from];

    public static bool CanMove(WorkItemStatus from, WorkItemStatus to) => Moves[from].Contains(to);

    public static bool IsTerminal(WorkItemStatus status) => Moves[status].Length == 0;

    public static StatusChange? TryMove(WorkItemStatus from, WorkItemStatus to, out string? error)
    {
        error = from == to ? $"{from} → {to} is not a change"
            : IsTerminal(from) ? $"a {from} item cannot change status; a new message starts a follow-up item"
            : !CanMove(from, to) ? $"{from} → {to} is not allowed; from {from} an item can go to {string.Join(", ", Moves[from])}"
            : null;
        return error is null ? new StatusChange(from, to) : null;
    }
}
