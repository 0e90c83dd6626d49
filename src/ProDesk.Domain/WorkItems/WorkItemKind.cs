namespace ProDesk.Domain.WorkItems;

/// <summary>
/// What a work item is. Every kind shares one table, one queue model and one SLA clock; the kind
/// decides which back-office screen keys it and what it weighs when routing counts an agent's load.
/// Values are explicit because they are stored.
/// </summary>
public enum WorkItemKind
{
    /// <summary>Front office: a thread with a client's customer over email, chat, web form, SMS or API.</summary>
    Conversation = 0,

    /// <summary>Back office: a call or request taken for the client (message, appointment, forward).</summary>
    SecretaryTask = 1,

    /// <summary>Back office: a supplier or customer invoice to capture, key, validate and route for approval.</summary>
    Invoice = 2,

    /// <summary>Back office: a record to key from a source document against the client's form schema.</summary>
    DataEntry = 3,
}
