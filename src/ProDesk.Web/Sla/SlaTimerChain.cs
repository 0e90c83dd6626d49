using System.Globalization;
using ProDesk.Data.Sla;
using ProDesk.Domain.Sla;

namespace ProDesk.Web.Sla;

/// <summary>One threshold of a running clock: a warning below 100 %, the breach at 100 %.</summary>
public readonly record struct SlaThreshold(int Percent, DateTime FireAt);

/// <summary>
/// A running clock's thresholds as one armed timer row: the first in the row, the rest in its
/// <see cref="SlaTimer.Then"/>. Arming writes one row per clock; firing a row arms the next.
/// </summary>
public static class SlaTimerChain
{
    /// <summary>The row for <paramref name="thresholds"/> (in firing order, at least one).</summary>
    public static SlaTimer Arm(Guid tenantId, Guid workItemId, SlaTarget target, DateTime dueAt, IReadOnlyList<SlaThreshold> thresholds) => new()
    {
        TenantId = tenantId,
        WorkItemId = workItemId,
        Target = target,
        Percent = thresholds[0].Percent,
        FireAt = thresholds[0].FireAt,
        DueAt = dueAt,
        Then = thresholds.Count > 1 ? string.Join(';', thresholds.Skip(1).Select(Write)) : null,
    };

    /// <summary>The row of the threshold after <paramref name="fired"/>, or null when it was the clock's last.</summary>
    public static SlaTimer? Next(SlaTimer fired)
    {
        // Only this class writes Then; a part it cannot read is skipped rather than failing the sweeper's whole batch.
        var rest = (fired.Then ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Read).OfType<SlaThreshold>().ToList();
        return rest.Count == 0 ? null : Arm(fired.TenantId, fired.WorkItemId, fired.Target, fired.DueAt, rest);
    }

    private static string Write(SlaThreshold threshold) =>
        string.Create(CultureInfo.InvariantCulture, $"{threshold.Percent}@{threshold.FireAt.Ticks}");

    private static SlaThreshold? Read(string part)
    {
        var at = part.IndexOf('@', StringComparison.Ordinal);
        return at > 0
            && int.TryParse(part.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out var percent)
            && long.TryParse(part.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTime.MaxValue.Ticks
                ? new SlaThreshold(percent, new DateTime(ticks, DateTimeKind.Utc))
                : null;
    }
}
