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
}
