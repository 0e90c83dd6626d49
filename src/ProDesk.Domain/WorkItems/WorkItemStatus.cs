namespace ProDesk.Domain.WorkItems;

/// <summary>
/// Where an item is in its life. The allowed moves between them are in
/// <see cref="WorkItemStatusMachine"/>. Values are explicit because they are stored.
/// </summary>
public enum WorkItemStatus
{
    /// <summary>The desk owes the next step; SLA clocks run.</summary>
    Open = 0,

    /// <summary>Waiting on the client's customer (a reply, a document); SLA clocks pause.</summary>
    Pending = 1,

    /// <summary>Waiting on the client company itself (an approval, a decision); SLA clocks pause.</summary>
    OnHold = 2,

    /// <summary>The desk considers it done; a customer reply still reopens it.</summary>
    Solved = 3,

    /// <summary>Final: reports and billing can rely on it never changing again.</summary>
    Closed = 4,
}
