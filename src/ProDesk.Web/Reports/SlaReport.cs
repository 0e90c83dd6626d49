using System.Globalization;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Sla;
using ProDesk.Domain.Sla;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Reports;

/// <summary>What a report row is grouped by (CONTRACT.md: <c>groupBy=queue|channel|priority|day</c>).</summary>
public enum SlaReportGrouping
{
    Queue,
    Channel,
    Priority,
    Day,
}

/// <summary>
/// One target's outcomes in a group. An item counts once per target its policy measured, by the target's latest
/// measurement, as the item view shows it: <see cref="Met"/> in time, <see cref="Breached"/> (met late, still
/// open past its due time, or missed in an earlier measurement: a next response the customer wrote again after), <see cref="Open"/> (running or paused, not yet due), or <see cref="Stopped"/> (ended
/// without being met or missed: solved without a public reply). Compliance is of the met and breached only.
/// </summary>
/// <param name="CompliancePercent">Met of met and breached, in percent (one decimal); null when neither.</param>
/// <param name="AverageMinutes">
/// Business minutes the answered measurements took on average, in time or late (one decimal); null when none was answered.
/// Late answers used to be left out, so a queue answering most mails late read "6 seconds on average" (probe round 19).
/// </param>
public sealed record SlaTargetFigures(int Met, int Breached, int Open, int Stopped, double? CompliancePercent, double? AverageMinutes);

/// <param name="Group">The queue key, channel, priority, or the day (yyyy-MM-dd in the tenant's time zone); "total" for the sum.</param>
/// <param name="Items">Items created in the period in this group, with or without an SLA.</param>
/// <param name="Targets">By target name (firstResponse, nextResponse, resolution), only targets that were measured.</param>
public sealed record SlaReportRow(string Group, int Items, IReadOnlyDictionary<string, SlaTargetFigures> Targets);

/// <param name="From">Start of the period (inclusive), UTC.</param>
/// <param name="To">End of the period (exclusive), UTC.</param>
public sealed record SlaReportResult(string Tenant, DateTime From, DateTime To, string GroupBy, string TimeZone, IReadOnlyList<SlaReportRow> Rows, SlaReportRow Total);

/// <summary>
/// SLA compliance of the current tenant's items created in a period. Read from the clock events each item keeps
/// (replayed as the item view replays them), one item at a time as the rows stream in, so a month of a busy client
/// is not held in memory at once; the tenant filter and row-level security keep it to the tenant.
/// </summary>
public sealed class SlaReport(ProDeskDbContext db, ITenantContext tenants, ITenantOptions<TenantCalendarOptions> calendars, TimeProvider clock)
{
    private sealed class Tally
    {
        public int Items;

        public readonly Dictionary<SlaTarget, (int Met, int Breached, int Open, int Stopped, int Answered, double AnsweredMinutes)> Targets = [];

        public void Add(Tally other)
        {
            Items += other.Items;
            foreach (var (target, f) in other.Targets)
            {
                var mine = Targets.GetValueOrDefault(target);
                Targets[target] = (mine.Met + f.Met, mine.Breached + f.Breached, mine.Open + f.Open, mine.Stopped + f.Stopped,
                    mine.Answered + f.Answered, mine.AnsweredMinutes + f.AnsweredMinutes);
            }
        }

        public void Count(SlaClockState state, DateTimeOffset now)
        {
            var (met, breached, open, stopped, answered, minutes) = Targets.GetValueOrDefault(state.Target);
            if (state.Status == SlaClockStatus.Met)
            {
                answered++;
                minutes += state.Elapsed.TotalMinutes;
            }

            // Late: the sweeper recorded the breach, or a running clock is past due and the sweeper has yet to.
            if (state.IsBreachedAsOf(now))
            {
                breached++;
            }
            else if (state.Status == SlaClockStatus.Met)
            {
                met++;
            }
            else if (state.Status is SlaClockStatus.Running or SlaClockStatus.Paused)
            {
                open++;
            }
            else
            {
                stopped++;
            }

            Targets[state.Target] = (met, breached, open, stopped, answered, minutes);
        }

        public SlaReportRow Row(string group) => new(group, Items, Targets.OrderBy(t => t.Key).ToDictionary(
            t => t.Key.ApiName(),
            t => new SlaTargetFigures(
                t.Value.Met, t.Value.Breached, t.Value.Open, t.Value.Stopped,
                t.Value.Met + t.Value.Breached == 0 ? null : Math.Round(100.0 * t.Value.Met / (t.Value.Met + t.Value.Breached), 1),
                t.Value.Answered == 0 ? null : Math.Round(t.Value.AnsweredMinutes / t.Value.Answered, 1))));
    }

    private sealed record ItemRow(Guid Id, DateTime CreatedAt, Guid QueueId, string? Channel, Domain.WorkItems.WorkItemPriority Priority, Guid? PolicyId);

    public async Task<SlaReportResult> RunAsync(DateTime from, DateTime to, SlaReportGrouping groupBy, CancellationToken cancellationToken) =>
        (await RunAsync(from, to, [groupBy], cancellationToken))[0];

    /// <summary>
    /// The period's report under each of <paramref name="groupings"/>, in that order, from one read of its items and their
    /// clock events, each item's clocks replayed once (the portal shows the month by queue and by day).
    /// </summary>
    public async Task<IReadOnlyList<SlaReportResult>> RunAsync(DateTime from, DateTime to, IReadOnlyList<SlaReportGrouping> groupings, CancellationToken cancellationToken)
    {
        var tenant = tenants.Current ?? throw new InvalidOperationException("A report runs in one tenant's scope.");
        var calendar = calendars.OfTenant(tenant);
        var now = clock.GetUtcNow();
        var queues = await db.Queues.AsNoTracking().ToDictionaryAsync(q => q.Id, q => q.Key, cancellationToken);
        // An item is reported under the queue and priority whose policy measured it (those it arrived with), not where
        // an escalation moved it afterwards: a breach raises the priority, and would count against the target it never had.
        var policies = await db.SlaPolicies.AsNoTracking().ToDictionaryAsync(p => p.Id, p => (p.QueueKey, p.Priority), cancellationToken);
        var items = db.WorkItems.AsNoTracking().Where(w => w.CreatedAt >= from && w.CreatedAt < to);
        string GroupOf(ItemRow i, SlaReportGrouping groupBy) => groupBy switch
        {
            SlaReportGrouping.Queue => i.PolicyId is { } policy && policies.TryGetValue(policy, out var measured) ? measured.QueueKey : queues.GetValueOrDefault(i.QueueId, "none"),
            SlaReportGrouping.Channel => i.Channel ?? "none",
            SlaReportGrouping.Priority => i.PolicyId is { } policy && policies.TryGetValue(policy, out var measured) ? measured.Priority : i.Priority.ToString(),
            _ => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(i.CreatedAt, DateTimeKind.Utc), calendar.TimeZone)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };

        // Per item, its tally under each grouping (in the order asked).
        var tallies = groupings.Select(_ => new SortedDictionary<string, Tally>(StringComparer.Ordinal)).ToList();
        var talliesOf = (await items.Select(w => new ItemRow(w.Id, w.CreatedAt, w.QueueId, w.Channel, w.Priority, w.SlaPolicyId)).ToListAsync(cancellationToken))
            .ToDictionary(i => i.Id, i => groupings.Select((groupBy, g) =>
            {
                var group = GroupOf(i, groupBy);
                var tally = tallies[g].TryGetValue(group, out var found) ? found : tallies[g][group] = new Tally();
                tally.Items++;
                return tally;
            }).ToList());

        for (var g = 0; g < groupings.Count; g++)
        {
            if (groupings[g] == SlaReportGrouping.Day)
            {
                // Every day of the period has its row, a quiet one too: a chart or a spreadsheet reads the days as a series,
                // and a missing day drew Friday next to Monday.
                foreach (var day in DaysOf(from, to, calendar.TimeZone))
                {
                    tallies[g].TryAdd(day, new Tally());
                }
            }
        }

        // Each item's events in order, streamed: folded into its groups when the next item's begin.
        var entries = db.SlaClockEntries.AsNoTracking()
            .Where(c => items.Any(w => w.Id == c.WorkItemId))
            .OrderBy(c => c.WorkItemId).ThenBy(c => c.Id)
            .AsAsyncEnumerable();
        var current = new List<SlaClockEntry>();
        void Fold()
        {
            if (current.Count > 0 && talliesOf.TryGetValue(current[0].WorkItemId, out var itemTallies))
            {
                foreach (var state in SlaClock.Replay(current.Select(e => e.ToEvent()), calendar.Calendar))
                {
                    foreach (var tally in itemTallies)
                    {
                        tally.Count(state, now);
                    }
                }
            }

            current.Clear();
        }

        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            if (current.Count > 0 && current[0].WorkItemId != entry.WorkItemId)
            {
                Fold();
            }

            current.Add(entry);
        }

        Fold();
        return [.. groupings.Select((groupBy, g) =>
        {
            var total = new Tally();
            foreach (var tally in tallies[g].Values)
            {
                total.Add(tally);
            }

            return new SlaReportResult(
                tenant.Slug, from, to, groupBy.ToString().ToLowerInvariant(), calendar.TimeZone.Id,
                [.. tallies[g].Select(t => t.Value.Row(t.Key))], total.Row("total"));
        })];
    }

    /// <summary>The client's days that [<paramref name="from"/>, <paramref name="to"/>) touches, as yyyy-MM-dd.</summary>
    private static IEnumerable<string> DaysOf(DateTime from, DateTime to, TimeZoneInfo zone)
    {
        if (to <= from)
        {
            yield break;
        }

        var first = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(from, DateTimeKind.Utc), zone));
        var last = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(to, DateTimeKind.Utc).AddTicks(-1), zone));
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            yield return day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
    }
}
