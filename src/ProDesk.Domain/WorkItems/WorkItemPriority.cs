namespace ProDesk.Domain.WorkItems;

/// <summary>Ordered from least to most urgent, so a larger value is more urgent.</summary>
public enum WorkItemPriority
{
    Low,
    Normal,
    High,
    Urgent,
}
