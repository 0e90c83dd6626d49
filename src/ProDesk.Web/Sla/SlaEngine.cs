using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Sla;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Sla;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>
/// Drives an item's SLA clocks from what happens to it (created, replied to, a customer's follow-up,
/// a status move): appends clock events, recomputes the deadlines on the tenant's business calendar,
/// re-arms the timers the sweeper fires, and stores the earliest running deadline on the item
/// (<see cref="WorkItem.DueAt"/>). Adds rows only: the caller saves them with its own change, in the
/// same transaction.
/// </summary>
/// <summary>What happened to an item that may move its SLA clocks.</summary>
/// <param name="Merged">The item was closed by merging it into another: its clocks stop there, none is met.</param>
/// <param name="ReplyNotDeliveredAt">The reply written then was given up undelivered: the response it met runs on as if never met.</param>
/// <param name="ResponseOwed">
/// A merged conversation's unanswered question (<see cref="SlaEngine.OwedResponseAsync"/>): the item it joined owes that
/// answer by the same time, unless it already owes one sooner.
/// </param>
public sealed record SlaChange(bool Replied = false, bool CustomerWrote = false, WorkItemStatus? StatusFrom = null, bool Merged = false, DateTime? ReplyNotDeliveredAt = null, OwedResponse? ResponseOwed = null);

/// <summary>
/// A response an item owes, due at <paramref name="DueAt"/>; with the measurement's start and goal when it ran in one
/// piece since it started (no stop or resume), so another item can carry it exactly.
/// </summary>
public sealed record OwedResponse(DateTimeOffset DueAt, DateTime? StartedAt, int? GoalMinutes);

public sealed class SlaEngine(ProDeskDbContext db, ITenantStore tenants, ITenantOptions<TenantCalendarOptions> calendars)
{
    /// <summary>
    /// Assigns <paramref name="policy"/>, the current (highest) version of the item's queue and priority, which
    /// the caller reads in the same round trip as the queue (ingestion, for every new item), and starts its clocks.
    /// </summary>
    public async Task StartAsync(WorkItem item, SlaPolicy? policy, DateTime now, CancellationToken cancellationToken)
    {
        if (policy is null)
        {
            return;
        }

        item.SlaPolicyId = policy.Id;
        var started = new List<SlaClockEntry>();
        if (item.Kind == WorkItemKind.Conversation && policy.FirstResponseMinutes is { } first)
        {
            started.Add(Entry(item, SlaTarget.FirstResponse, SlaClockEventKind.Started, now, "created", first));
        }

        if (policy.ResolutionMinutes is { } resolution)
        {
            started.Add(Entry(item, SlaTarget.Resolution, SlaClockEventKind.Started, now, "created", resolution));
        }

        Recompute(item, policy, await CalendarAsync(item, cancellationToken), [], [], started);
    }

    /// <summary>
    /// Applies what happened to an item, in this order: a public reply meets the first response (or the
    /// next response a follow-up started); a status move pauses, resumes, meets or stops clocks (see
    /// <see cref="StatusSteps"/>); a customer's follow-up on an answered item starts a next-response clock.
    /// </summary>
    public async Task UpdateAsync(WorkItem item, SlaChange change, DateTime now, CancellationToken cancellationToken)
    {
        if (item.SlaPolicyId is not { } policyId)
        {
            return;
        }

        var policy = await db.SlaPolicies.AsNoTracking().FirstAsync(p => p.Id == policyId, cancellationToken);
        var entries = await db.SlaClockEntries.AsNoTracking().Where(c => c.WorkItemId == item.Id).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        var calendar = await CalendarAsync(item, cancellationToken);
        var added = new List<SlaClockEntry>();
        IReadOnlyList<SlaClockState> Now() => SlaClock.Replay(entries.Concat(added).Select(e => e.ToEvent()), calendar);

        if (change.Replied)
        {
            added.AddRange(Now()
                .Where(s => s.Target is SlaTarget.FirstResponse or SlaTarget.NextResponse && s.Status is SlaClockStatus.Running or SlaClockStatus.Paused)
                .Select(s => Entry(item, s.Target, SlaClockEventKind.Met, now, "reply")));
        }

        if (change.ReplyNotDeliveredAt is { } repliedAt)
        {
            // Resumed from the moment of the reply, so the time since counts: the customer has been waiting all along.
            // Only the latest response measurement, met by that reply; one a later measurement followed stays as it was.
            var latest = Now().Where(s => IsResponse(s.Target)).MaxBy(s => s.EndedAt ?? DateTimeOffset.MaxValue);
            if (latest is { Status: SlaClockStatus.Met } && entries.Any(e => e.Target == latest.Target && e.Kind == SlaClockEventKind.Met && e.At == repliedAt))
            {
                added.Add(Entry(item, latest.Target, SlaClockEventKind.Resumed, repliedAt, "reply not delivered"));
            }
        }

        // The status move before the follow-up: reopening a solved item resumes a response it still owes, and the
        // customer's words then join that measurement instead of starting a second one.
        if (change.StatusFrom is { } from && from != item.Status)
        {
            added.AddRange(StatusSteps(Now(), policy, from, item.Status, change).Select(step => Entry(item, step.Target, step.Kind, now, $"{from} -> {item.Status}")));
        }

        if (change.CustomerWrote && item.Kind == WorkItemKind.Conversation && policy.NextResponseMinutes is { } goal
            && !Now().Any(s => s.Target is SlaTarget.FirstResponse or SlaTarget.NextResponse && s.Status is SlaClockStatus.Running or SlaClockStatus.Paused))
        {
            added.Add(Entry(item, SlaTarget.NextResponse, SlaClockEventKind.Started, now, "customer reply", goal));
        }

        if (change.ResponseOwed is { } owed && owed.DueAt > now && item.Kind == WorkItemKind.Conversation
            && !Now().Any(s => IsResponse(s.Target) && s.Status == SlaClockStatus.Running && s.DueAt <= owed.DueAt))
        {
            // Merging an unanswered question into another conversation used to give it a fresh, full deadline there: a
            // question about to breach was answered "in time" (probe round 20). The answer is owed by the time it was: the
            // measurement is carried with its own start and goal, so the wait counts from the customer's question. The
            // clock replays its events by time, so that start must not come before a response event of this item (a
            // reply since would meet it); then it starts now with the time left, in whole minutes rounded up (at most a
            // minute later, never sooner). A later next response the item owed gives way to this earlier one; a first
            // response it owes runs on beside it, and a reply meets both.
            var latestResponseEvent = entries.Where(e => IsResponse(e.Target)).Select(e => (DateTime?)e.At).Max();
            added.Add(owed is { StartedAt: { } startedAt, GoalMinutes: { } goalMinutes } && !(latestResponseEvent >= startedAt)
                ? Entry(item, SlaTarget.NextResponse, SlaClockEventKind.Started, startedAt, "merged question", goalMinutes)
                : Entry(item, SlaTarget.NextResponse, SlaClockEventKind.Started, now, "merged question",
                    Math.Max(1, (int)Math.Ceiling(calendar.BusinessTimeBetween(now, owed.DueAt).TotalMinutes))));
        }

        if (added.Count == 0)
        {
            return;
        }

        var timers = await db.SlaTimers.Where(t => t.WorkItemId == item.Id).ToListAsync(cancellationToken);
        Recompute(item, policy, calendar, entries, timers, added);
    }

    /// <summary>
    /// A status move: into a pause status pauses the running resolution clock; out of one resumes what is paused; solved or closed
    /// meets the resolution and stops the response clocks nobody answered; reopening a solved item resumes
    /// the resolution where it stopped, and the response nobody gave.
    /// </summary>
    private static IEnumerable<(SlaTarget Target, SlaClockEventKind Kind)> StatusSteps(IReadOnlyList<SlaClockState> states, SlaPolicy policy, WorkItemStatus from, WorkItemStatus to, SlaChange change)
    {
        var pauses = policy.PauseStatuses.Select(Enum.Parse<WorkItemStatus>).ToHashSet();
        var merged = change.Merged;
        foreach (var state in states)
        {
            if (state.Status == SlaClockStatus.Stopped && IsResponse(state.Target) && from == WorkItemStatus.Solved && WorkItemStatusMachine.IsActive(to)
                && !states.Any(other => IsResponse(other.Target) && other.Target != state.Target && (other.EndedAt is null || other.EndedAt > state.EndedAt)))
            {
                // Solving an unanswered item stopped its response clock; reopening it without an answer left the customer
                // waiting with no clock, no warning and no breach (probe round 19). It runs on from the time it had used;
                // a reply that reopens it answers it at once. Only the latest response measurement: one a later
                // measurement followed was superseded.
                yield return (state.Target, SlaClockEventKind.Resumed);
                if (change.Replied)
                {
                    yield return (state.Target, SlaClockEventKind.Met);
                }

                continue;
            }

            if (state.Status == SlaClockStatus.Met && state.Target == SlaTarget.Resolution && from == WorkItemStatus.Solved && WorkItemStatusMachine.IsActive(to))
            {
                // Reopened: the resolution continues from the time it had used, paused at once if it reopens waiting.
                yield return (state.Target, SlaClockEventKind.Resumed);
                if (pauses.Contains(to))
                {
                    yield return (state.Target, SlaClockEventKind.Paused);
                }

                continue;
            }

            var kind = (state.Status, to) switch
            {
                (SlaClockStatus.Running or SlaClockStatus.Paused, WorkItemStatus.Solved or WorkItemStatus.Closed) =>
                    // A merged item was not resolved: its question lives on in the item it joined (probe round 18).
                    state.Target == SlaTarget.Resolution && !merged ? SlaClockEventKind.Met : SlaClockEventKind.Stopped,
                // Only the resolution waits with the customer: a response is owed until someone answers, and setting an
                // unanswered item Pending used to stop its first-response clock without a reply (probe round 18).
                (SlaClockStatus.Running, _) when pauses.Contains(to) && state.Target == SlaTarget.Resolution => SlaClockEventKind.Paused,
                (SlaClockStatus.Paused, _) when !pauses.Contains(to) => SlaClockEventKind.Resumed,
                _ => (SlaClockEventKind?)null,
            };
            if (kind is { } k)
            {
                yield return (state.Target, k);
            }
        }
    }

    /// <summary>
    /// The clocks of one item as they stand, for the API's sla block. A running clock reports the due time its
    /// breach timer was armed with, which is when the breach will fire: a calendar edited since (an imported
    /// holiday) applies from the clock's next change, as a policy edit applies to new items.
    /// </summary>
    public async Task<(IReadOnlyList<SlaClockState> States, SlaPolicy? Policy, DateTime? PausedSince)> StatesAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (item.SlaPolicyId is not { } policyId)
        {
            return ([], null, null);
        }

        var policy = await db.SlaPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == policyId, cancellationToken);
        var entries = await db.SlaClockEntries.AsNoTracking().Where(c => c.WorkItemId == item.Id).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        // Every armed threshold of a clock carries the same due time (rows armed before chaining: one per threshold).
        var armed = (await db.SlaTimers.AsNoTracking().Where(t => t.WorkItemId == item.Id && t.FiredAt == null)
                .Select(t => new { t.Target, t.DueAt }).ToListAsync(cancellationToken))
            .DistinctBy(t => t.Target).ToDictionary(t => t.Target, t => t.DueAt);
        var states = SlaClock.Replay(entries.Select(e => e.ToEvent()), await CalendarAsync(item, cancellationToken))
            .Select(s => s.Status == SlaClockStatus.Running && armed.TryGetValue(s.Target, out var due)
                ? s with { DueAt = new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc)) }
                : s)
            .ToList();
        var pausedSince = states.Where(s => s.PausedSince is not null).Select(s => s.PausedSince!.Value.UtcDateTime).Cast<DateTime?>().Min();
        return (states, policy, pausedSince);
    }

    /// <summary>The item's earliest unanswered response; null when it owes none, or is overdue already (its breach stays its own).</summary>
    public async Task<OwedResponse?> OwedResponseAsync(WorkItem item, DateTime now, CancellationToken cancellationToken)
    {
        if (item.SlaPolicyId is null)
        {
            return null;
        }

        var entries = await db.SlaClockEntries.AsNoTracking().Where(c => c.WorkItemId == item.Id).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        var owed = SlaClock.Replay(entries.Select(e => e.ToEvent()), await CalendarAsync(item, cancellationToken))
            .Where(s => IsResponse(s.Target) && s.Status == SlaClockStatus.Running && s.DueAt > new DateTimeOffset(now, TimeSpan.Zero))
            .MinBy(s => s.DueAt);
        if (owed is null)
        {
            return null;
        }

        // In one piece: its latest event is the start (nothing stopped, met or resumed it since).
        var latest = entries.Where(e => e.Target == owed.Target).MaxBy(e => (e.At, e.Id));
        return latest is { Kind: SlaClockEventKind.Started, GoalMinutes: { } goal }
            ? new OwedResponse(owed.DueAt!.Value, latest.At, goal)
            : new OwedResponse(owed.DueAt!.Value, null, null);
    }

    /// <summary>Adds the new events, replaces the armed timers with one per clock still running (<see cref="SlaTimerChain"/>), and sets the item's due time.</summary>
    private void Recompute(WorkItem item, SlaPolicy policy, BusinessCalendar calendar, List<SlaClockEntry> entries, List<SlaTimer> timers, List<SlaClockEntry> added)
    {
        db.SlaClockEntries.AddRange(added);
        var all = entries.Concat(added).ToList();
        var states = SlaClock.Replay(all.Select(e => e.ToEvent()), calendar);

        // When the target's current measurement started: a threshold fires once per measurement.
        DateTime CycleStart(SlaTarget target) => all.Where(e => e.Target == target && e.Kind == SlaClockEventKind.Started).Max(e => e.At);

        db.SlaTimers.RemoveRange(timers.Where(t => t.FiredAt is null));
        foreach (var state in states.Where(s => s.Status == SlaClockStatus.Running))
        {
            // One that fired since the clock last started stays fired.
            var cycleStart = CycleStart(state.Target);
            var pending = policy.WarningPercents.Append(100).Distinct().Order()
                .Where(percent => !timers.Any(t => t.Target == state.Target && t.Percent == percent && t.FiredAt is not null && t.FiredAt >= cycleStart))
                .Select(percent => new SlaThreshold(percent, state.ThresholdAt(percent, calendar)!.Value.UtcDateTime))
                .ToList();
            if (pending.Count > 0)
            {
                db.SlaTimers.Add(SlaTimerChain.Arm(item.TenantId, item.Id, state.Target, state.DueAt!.Value.UtcDateTime, pending));
            }
        }

        // A clock this change ended late (a reply in the moment before the sweeper fired its breach) still owes the breach:
        // its event, trail row and escalation, which the sweeper gives every breach. Armed already due, it fires on the
        // sweeper's next pass; without it the item and the report said breached and nobody was told (probe round 18).
        foreach (var state in states.Where(s => s.Status is SlaClockStatus.Met or SlaClockStatus.Stopped && s.Breached && s.DueAt is not null
            && added.Any(e => e.Target == s.Target && e.Kind is SlaClockEventKind.Met or SlaClockEventKind.Stopped)))
        {
            var cycleStart = CycleStart(state.Target);
            var told = all.Any(e => e.Target == state.Target && e.Kind == SlaClockEventKind.Breached && e.At >= cycleStart)
                || timers.Any(t => t.Target == state.Target && t.Percent >= 100 && t.FiredAt is not null && t.FiredAt >= cycleStart);
            if (!told)
            {
                var due = state.DueAt!.Value.UtcDateTime;
                db.SlaTimers.Add(SlaTimerChain.Arm(item.TenantId, item.Id, state.Target, due, [new SlaThreshold(100, due)]));
            }
        }

        item.DueAt = states.Where(s => s.Status == SlaClockStatus.Running).Select(s => s.DueAt!.Value.UtcDateTime).Cast<DateTime?>().Min();
    }

    private static bool IsResponse(SlaTarget target) => target is SlaTarget.FirstResponse or SlaTarget.NextResponse;

    private async Task<BusinessCalendar> CalendarAsync(WorkItem item, CancellationToken cancellationToken) =>
        await tenants.FindByIdAsync(item.TenantId, cancellationToken) is { } tenant
            ? calendars.OfTenant(tenant).Calendar
            : throw new InvalidOperationException($"Work item {item.Id} belongs to an unknown tenant.");

    private static SlaClockEntry Entry(WorkItem item, SlaTarget target, SlaClockEventKind kind, DateTime at, string reason, int? goalMinutes = null) =>
        new() { TenantId = item.TenantId, WorkItemId = item.Id, Target = target, Kind = kind, At = at, Reason = reason, GoalMinutes = goalMinutes };
}
