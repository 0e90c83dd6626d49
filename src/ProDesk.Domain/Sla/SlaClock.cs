namespace ProDesk.Domain.Sla;

/// <summary>What an SLA measures. Values are explicit because they are stored.</summary>
public enum SlaTarget
{
    /// <summary>From the customer's first message to the desk's first public reply (conversations).</summary>
    FirstResponse = 0,

    /// <summary>From a customer's follow-up to the desk's next public reply (conversations).</summary>
    NextResponse = 1,

    /// <summary>From creation to solved; for back-office kinds the due-by (turnaround) target.</summary>
    Resolution = 2,
}

/// <summary>One thing that happened to a target's clock. Values are explicit because they are stored.</summary>
public enum SlaClockEventKind
{
    /// <summary>A new measurement begins (with its goal); for next response, each follow-up starts one.</summary>
    Started = 0,

    /// <summary>The item moved to a pause status: business time stops counting.</summary>
    Paused = 1,

    /// <summary>Counting again; also after a solved item is reopened (resolution continues where it stopped).</summary>
    Resumed = 2,

    /// <summary>The target was reached (a reply, the item solved).</summary>
    Met = 3,

    /// <summary>The measurement ended without being met or missed (e.g. solved without any reply).</summary>
    Stopped = 4,

    /// <summary>A warning threshold passed (informational: recorded by the sweeper).</summary>
    Warned = 5,

    /// <summary>The due time passed while the clock ran (recorded by the sweeper).</summary>
    Breached = 6,
}

/// <summary>An event of a target's clock: the audit trail a client can read to see why an item breached.</summary>
public sealed record SlaClockEvent(SlaTarget Target, SlaClockEventKind Kind, DateTimeOffset At, TimeSpan Goal = default);

public enum SlaClockStatus
{
    Running,
    Paused,
    Met,
    Stopped,
}

/// <summary>
/// Where one target's clock stands after its events: the business time used, and while running the due
/// time. <see cref="DueAt"/> of a met or stopped clock is the due time it had when it ended; a paused
/// clock has none (it depends on when it resumes). <see cref="BreachedEarlier"/>: an earlier measurement of the same
/// target (a next response before the customer wrote again) was missed, which a new measurement does not undo.
/// </summary>
public sealed record SlaClockState(
    SlaTarget Target,
    SlaClockStatus Status,
    TimeSpan Goal,
    TimeSpan Elapsed,
    DateTimeOffset? RunningSince,
    DateTimeOffset? PausedSince,
    DateTimeOffset? DueAt,
    DateTimeOffset? EndedAt,
    bool Breached,
    bool BreachedEarlier = false)
{
    /// <summary>Missed in this measurement or an earlier one: what the item view and the report call breached.</summary>
    public bool EverBreached => Breached || BreachedEarlier;

    /// <summary>Breached as of <paramref name="now"/>: missed on the record, or running past its due time before the sweeper records it.</summary>
    public bool IsBreachedAsOf(DateTimeOffset now) => EverBreached || (Status == SlaClockStatus.Running && DueAt < now);

    /// <summary>Business time left while running or paused (negative once overdue, as of the last event).</summary>
    public TimeSpan Remaining => Goal - Elapsed;

    /// <summary>
    /// When a running clock reaches <paramref name="percent"/> of its goal, or null when it is not running.
    /// An instant already passed is returned as is: the caller decides whether it still has to fire.
    /// </summary>
    public DateTimeOffset? ThresholdAt(int percent, BusinessCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        if (Status != SlaClockStatus.Running || RunningSince is not { } since)
        {
            return null;
        }

        var threshold = TimeSpan.FromTicks(Goal.Ticks / 100 * percent);
        var left = threshold - Elapsed;
        return left > TimeSpan.Zero ? calendar.AddBusinessTime(since, left) : since;
    }
}

/// <summary>
/// The SLA clock as a fold over its events: a deadline is never stored on its own, it is recomputed
/// from the events and the tenant's business calendar, so it stays explainable (and correct after a
/// calendar or pause). Each target's latest measurement is its state (a next-response target starts
/// again with every follow-up), and a breach of an earlier one stays on the record.
/// </summary>
public static class SlaClock
{
    public static IReadOnlyList<SlaClockState> Replay(IEnumerable<SlaClockEvent> events, BusinessCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(calendar);
        var states = new Dictionary<SlaTarget, SlaClockState>();
        foreach (var e in events.OrderBy(e => e.At))
        {
            states.TryGetValue(e.Target, out var state);
            var next = Apply(state, e, calendar);
            if (next is not null)
            {
                states[e.Target] = next;
            }
        }

        return [.. states.Values.OrderBy(s => s.Target)];
    }

    private static SlaClockState? Apply(SlaClockState? state, SlaClockEvent e, BusinessCalendar calendar)
    {
        if (e.Kind == SlaClockEventKind.Started)
        {
            // A customer writing again after a missed next response does not make it met (probe round 18): the breach of
            // the measurement it ends (recorded, or overdue while still running) is carried.
            var missed = state is not null
                && (state.EverBreached || (state.Status == SlaClockStatus.Running && Accrue(state, e.At, calendar).Breached));
            return new SlaClockState(e.Target, SlaClockStatus.Running, e.Goal, TimeSpan.Zero, e.At, null, calendar.AddBusinessTime(e.At, e.Goal), null, false, missed);
        }

        if (state is null)
        {
            // An event without a start (a target the policy never had) changes nothing.
            return null;
        }

        return (e.Kind, state.Status) switch
        {
            (SlaClockEventKind.Paused, SlaClockStatus.Running) => Accrue(state, e.At, calendar) with { Status = SlaClockStatus.Paused, RunningSince = null, PausedSince = e.At, DueAt = null },
            (SlaClockEventKind.Resumed, SlaClockStatus.Paused or SlaClockStatus.Met or SlaClockStatus.Stopped) => Run(state, e.At, calendar),
            (SlaClockEventKind.Met, SlaClockStatus.Running) => End(Accrue(state, e.At, calendar), SlaClockStatus.Met, e.At),
            (SlaClockEventKind.Met, SlaClockStatus.Paused) => End(state, SlaClockStatus.Met, e.At),
            (SlaClockEventKind.Stopped, SlaClockStatus.Running) => End(Accrue(state, e.At, calendar), SlaClockStatus.Stopped, e.At),
            (SlaClockEventKind.Stopped, SlaClockStatus.Paused) => End(state, SlaClockStatus.Stopped, e.At),
            (SlaClockEventKind.Breached, _) => state with { Breached = true },
            _ => state,
        };
    }

    /// <summary>Adds the business time from the running start to <paramref name="until"/>, and notes a breach it contains.</summary>
    private static SlaClockState Accrue(SlaClockState state, DateTimeOffset until, BusinessCalendar calendar)
    {
        var since = state.RunningSince ?? until;
        var elapsed = state.Elapsed + calendar.BusinessTimeBetween(since, until);
        return state with { Elapsed = elapsed, Breached = state.Breached || elapsed > state.Goal };
    }

    private static SlaClockState Run(SlaClockState state, DateTimeOffset from, BusinessCalendar calendar)
    {
        var left = state.Goal - state.Elapsed;
        var due = left > TimeSpan.Zero ? calendar.AddBusinessTime(from, left) : from;
        return state with { Status = SlaClockStatus.Running, RunningSince = from, PausedSince = null, DueAt = due, EndedAt = null };
    }

    private static SlaClockState End(SlaClockState state, SlaClockStatus status, DateTimeOffset at) =>
        state with { Status = status, RunningSince = null, PausedSince = null, EndedAt = at };
}
