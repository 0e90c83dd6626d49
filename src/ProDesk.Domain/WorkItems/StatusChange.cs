namespace ProDesk.Domain.WorkItems;

/// <summary>
/// One allowed move, as returned by <see cref="WorkItemStatusMachine.TryMove"/>: the audit trail
/// records it, and the SLA clock reads whether it starts or ends a wait on others.
/// </summary>
public sealed record StatusChange(WorkItemStatus From, WorkItemStatus To)
{
    /// <summary>A solved item taken up again (an agent reopening it, or a customer replying).</summary>
    public bool IsReopen => From == WorkItemStatus.Solved && To == WorkItemStatus.Open;

    /// <summary>The SLA clock pauses from this change on.</summary>
    public bool StartsWaitingOnOthers => !WorkItemStatusMachine.WaitsOnOthers(From) && WorkItemStatusMachine.WaitsOnOthers(To);

    /// <summary>The SLA pause, if any, ends with this change.</summary>
    public bool StopsWaitingOnOthers => WorkItemStatusMachine.WaitsOnOthers(From) && !WorkItemStatusMachine.WaitsOnOthers(To);

    public override string ToString() => $"{From} → {To}";
}
