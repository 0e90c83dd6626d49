using ProDesk.Domain.Sla;
using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Sla;

/// <summary>
/// One event of an item's SLA clock (started, paused, resumed, met, stopped, warned, breached): the
/// history from which deadlines are recomputed and which a client can audit. Append-only.
/// </summary>
public sealed class SlaClockEntry : ITenantOwned
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    public SlaTarget Target { get; set; }

    public SlaClockEventKind Kind { get; set; }

    public DateTime At { get; set; }

    /// <summary>The goal in business minutes, on a Started event.</summary>
    public int? GoalMinutes { get; set; }

    /// <summary>Why: the status move, the reply, the warning threshold ("75%").</summary>
    public string? Reason { get; set; }

    public SlaClockEvent ToEvent() => new(Target, Kind, DateTime.SpecifyKind(At, DateTimeKind.Utc), TimeSpan.FromMinutes(GoalMinutes ?? 0));
}

/// <summary>
/// A moment an SLA clock must act on: a warning threshold or the due time (Percent 100) of one
/// target of one item. Armed while the clock runs, dropped when it pauses or ends, fired once by
/// the sweeper, which claims rows whose <see cref="FireAt"/> has come. A running clock has one armed
/// row, its next threshold; the ones after it wait in <see cref="Then"/> and are armed as it fires.
/// Fired rows stay, as the record of which thresholds this measurement has already fired.
/// </summary>
public sealed class SlaTimer : ITenantOwned
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    public SlaTarget Target { get; set; }

    /// <summary>Share of the goal: a warning below 100, the breach at 100.</summary>
    public int Percent { get; set; }

    public DateTime FireAt { get; set; }

    /// <summary>The target's due time when armed (what the warning reports).</summary>
    public DateTime DueAt { get; set; }

    public DateTime? FiredAt { get; set; }

    /// <summary>
    /// The clock's later thresholds, in firing order, as "percent@ticks" joined by ';' (null when this is
    /// the last): one row per running clock instead of one per threshold, a third of the inserts per new item.
    /// </summary>
    public string? Then { get; set; }
}
