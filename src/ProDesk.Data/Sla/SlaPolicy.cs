using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Sla;

/// <summary>
/// SLA targets for one queue and priority of a tenant, in business minutes. Versioned: a change
/// adds a version, and items keep the version they started under (WorkItem.SlaPolicyId), so an
/// edit applies to new items and never rewrites history.
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

    /// <summary>Shares of each goal (percent, below 100) at which a warning fires.</summary>
    public List<int> WarningPercents { get; set; } = [75, 90];

    /// <summary>Statuses in which the clocks stop counting (WorkItemStatus names).</summary>
    public List<string> PauseStatuses { get; set; } = ["Pending", "OnHold"];

    /// <summary>What happens on a warning or a breach, as a JSON array of <c>{ "on": "warning"|"breach", "action": ..., "queue": ... }</c>.</summary>
    public string EscalationsJson { get; set; } = "[]";

    /// <summary>Who made this version (email), for the policy history.</summary>
    public string? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
