namespace ProDesk.Domain.WorkItems;

public enum WorkItemStatus
{
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}
