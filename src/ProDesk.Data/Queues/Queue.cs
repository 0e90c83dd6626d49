using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Queues;

/// <summary>A tenant's work queue (e.g. support, billing, fast). Key is unique within the tenant.</summary>
public sealed class Queue : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Key { get; set; }

    public required string Name { get; set; }

    /// <summary>Where work lands when nothing routes it elsewhere; one per tenant.</summary>
    public bool IsDefault { get; set; }

    /// <summary>How new work reaches agents: they pull it, or it is pushed to one.</summary>
    public QueueRouting Routing { get; set; } = QueueRouting.Pull;

    /// <summary>Skills an agent needs to take this queue's work (e.g. the client's language).</summary>
    public List<string> RequiredSkills { get; set; } = [];
}

public enum QueueRouting
{
    /// <summary>Agents take the next item themselves ("next item").</summary>
    Pull,

    /// <summary>Each new item goes to the next eligible online agent in turn.</summary>
    RoundRobin,

    /// <summary>Each new item goes to the eligible online agent with the most spare capacity.</summary>
    LeastLoaded,
}
