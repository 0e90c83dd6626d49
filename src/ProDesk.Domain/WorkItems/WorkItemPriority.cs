namespace ProDesk.Domain.WorkItems;

/// <summary>
/// How urgent an item is. Declared least urgent first so the numeric order is the urgency order;
/// code compares through <see cref="WorkItemPriorities.Rank"/> rather than casting, so a stored
/// value that is not one of these fails loudly instead of sorting somewhere arbitrary.
/// </summary>
public enum WorkItemPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
    Urgent = 3,
}

/// <summary>Urgency comparisons over <see cref="WorkItemPriority"/>.</summary>
public static class WorkItemPriorities
{
    /// <summary>Most urgent first: the order queues, "next item" and escalations read.</summary>
    public static IReadOnlyList<WorkItemPriority> MostUrgentFirst { get; } =
        [WorkItemPriority.Urgent, WorkItemPriority.High, WorkItemPriority.Normal, WorkItemPriority.Low];

    /// <summary>A number that grows with urgency (Low 0 ... Urgent 3), for sorting and SQL <c>ORDER BY</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a declared priority.</exception>
    public static int Rank(this WorkItemPriority priority) => priority switch
    {
        WorkItemPriority.Low => 0,
        WorkItemPriority.Normal => 1,
        WorkItemPriority.High => 2,
        WorkItemPriority.Urgent => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a work item priority"),
    };

    public static bool IsMoreUrgentThan(this WorkItemPriority priority, WorkItemPriority other) => priority.Rank() > other.Rank();

    /// <summary>One step up, for the "raise priority" escalation; Urgent stays Urgent.</summary>
    public static WorkItemPriority Raised(this WorkItemPriority priority) => priority switch
    {
        WorkItemPriority.Low => WorkItemPriority.Normal,
        WorkItemPriority.Normal => WorkItemPriority.High,
        WorkItemPriority.High or WorkItemPriority.Urgent => WorkItemPriority.Urgent,
        _ => throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a work item priority"),
    };
}
