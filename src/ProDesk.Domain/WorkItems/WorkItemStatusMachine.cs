namespace ProDesk.Domain.WorkItems;

/// <summary>
/// The allowed status moves of a work item, in one place, so the API, the console, the SLA
/// escalations and the customer-reply path all agree on them.
/// </summary>
/// <remarks>
/// <para>Closed is terminal: reports, SLA compliance and billing read a closed item as final, so a
/// new customer message on it starts a follow-up item instead of reopening it.</para>
/// <para>Solved is not terminal: it can be reopened (by an agent, or by a customer's reply) until it
/// is closed, and only a solved item can be closed, so every closed item went through a resolution
/// that the SLA clock measured.</para>
/// <para>Every method throws <see cref="ArgumentOutOfRangeException"/> for a value that is not a
/// declared status (a corrupt row must not look like a real state), except <see cref="TryMove"/>,
/// which reports it as an error because its input comes from callers.</para>
/// </remarks>
public static class WorkItemStatusMachine
{
    private static readonly IReadOnlyList<WorkItemStatus> FromOpen = [WorkItemStatus.Pending, WorkItemStatus.OnHold, WorkItemStatus.Solved];
    private static readonly IReadOnlyList<WorkItemStatus> FromPending = [WorkItemStatus.Open, WorkItemStatus.OnHold, WorkItemStatus.Solved];
    private static readonly IReadOnlyList<WorkItemStatus> FromOnHold = [WorkItemStatus.Open, WorkItemStatus.Pending, WorkItemStatus.Solved];
    private static readonly IReadOnlyList<WorkItemStatus> FromSolved = [WorkItemStatus.Open, WorkItemStatus.Closed];
    private static readonly IReadOnlyList<WorkItemStatus> FromClosed = [];

    /// <summary>The statuses an item in <paramref name="from"/> may move to, in declaration order; empty for Closed.</summary>
    public static IReadOnlyList<WorkItemStatus> MovesFrom(WorkItemStatus from) => from switch
    {
        WorkItemStatus.Open => FromOpen,
        WorkItemStatus.Pending => FromPending,
        WorkItemStatus.OnHold => FromOnHold,
        WorkItemStatus.Solved => FromSolved,
        WorkItemStatus.Closed => FromClosed,
        _ => throw Unknown(from, nameof(from)),
    };

    /// <summary>Whether <paramref name="from"/> → <paramref name="to"/> is allowed. Staying put is not a move.</summary>
    public static bool CanMove(WorkItemStatus from, WorkItemStatus to) => MovesFrom(from).Contains(to);

    /// <summary>
    /// The change, or null with the reason in <paramref name="error"/> (worded for the agent who asked,
    /// e.g. "Solved → Pending is not allowed; from Solved, an item can move to Open or Closed").
    /// </summary>
    public static StatusChange? TryMove(WorkItemStatus from, WorkItemStatus to, out string? error)
    {
        if (!Enum.IsDefined(from) || !Enum.IsDefined(to))
        {
            error = $"{(Enum.IsDefined(from) ? to : from)} is not a work item status";
            return null;
        }

        if (from == to)
        {
            error = $"{from} → {to} is not a change";
            return null;
        }

        if (IsTerminal(from))
        {
            error = $"a {from} item cannot change status; a new message starts a follow-up item";
            return null;
        }

        if (!CanMove(from, to))
        {
            error = $"{from} → {to} is not allowed; from {from}, an item can move to {Join(MovesFrom(from))}";
            return null;
        }

        error = null;
        return new StatusChange(from, to);
    }

    /// <summary>No move leaves this status: a new customer message creates a follow-up item.</summary>
    public static bool IsTerminal(WorkItemStatus status) => status switch
    {
        WorkItemStatus.Closed => true,
        WorkItemStatus.Open or WorkItemStatus.Pending or WorkItemStatus.OnHold or WorkItemStatus.Solved => false,
        _ => throw Unknown(status, nameof(status)),
    };

    /// <summary>Still work on the desk (counts in queue depth and agent load): Open, Pending, OnHold.</summary>
    public static bool IsActive(WorkItemStatus status) => status switch
    {
        WorkItemStatus.Open or WorkItemStatus.Pending or WorkItemStatus.OnHold => true,
        WorkItemStatus.Solved or WorkItemStatus.Closed => false,
        _ => throw Unknown(status, nameof(status)),
    };

    /// <summary>
    /// Waiting on the customer (Pending) or on the client (OnHold): the desk cannot act, so SLA
    /// clocks pause here and resume when the item leaves.
    /// </summary>
    public static bool WaitsOnOthers(WorkItemStatus status) => status switch
    {
        WorkItemStatus.Pending or WorkItemStatus.OnHold => true,
        WorkItemStatus.Open or WorkItemStatus.Solved or WorkItemStatus.Closed => false,
        _ => throw Unknown(status, nameof(status)),
    };

    /// <summary>
    /// The status after an inbound customer message: whatever the desk was waiting for (or thought
    /// was done) needs a look again, so Pending, OnHold and Solved reopen. Closed stays Closed: the
    /// caller sees <see cref="IsTerminal"/> and starts a follow-up item instead.
    /// </summary>
    public static WorkItemStatus AfterCustomerMessage(WorkItemStatus status) => status switch
    {
        WorkItemStatus.Open or WorkItemStatus.Pending or WorkItemStatus.OnHold or WorkItemStatus.Solved => WorkItemStatus.Open,
        WorkItemStatus.Closed => WorkItemStatus.Closed,
        _ => throw Unknown(status, nameof(status)),
    };

    private static string Join(IReadOnlyList<WorkItemStatus> statuses) => statuses.Count switch
    {
        0 => "nothing",
        1 => statuses[0].ToString(),
        _ => $"{string.Join(", ", statuses.Take(statuses.Count - 1))} or {statuses[^1]}",
    };

    private static ArgumentOutOfRangeException Unknown(WorkItemStatus status, string name) =>
        new(name, status, "not a work item status");
}
