namespace ProDesk.Domain.WorkItems;

/// <summary>Every kind of work shares one table, one queue and one SLA clock.</summary>
public enum WorkItemKind
{
    Conversation,
    SecretaryTask,
    Invoice,
    DataEntry,
}
