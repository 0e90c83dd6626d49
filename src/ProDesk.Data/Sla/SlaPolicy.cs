using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Sla;

/// <summary>
/// SLA targets for one queue and priority of a tenant, in business minutes. Versioned: a change
/// adds a version, so items keep the targets they were measured against.
/// </summary>
public sealed class SlaPolicy : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string QueueKey { get; set; }

    public required string Priority { get; set; }

    public int Version { get; set; } = 1;

    public int? FirstResponseMinutes { get; set; }

    public int? NextResponseMinutes { get; set; }

    public int? ResolutionMinutes { get; set; }

    public DateTime CreatedAt { get; set; }
}
