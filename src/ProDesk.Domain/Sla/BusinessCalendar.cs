using System.Collections.Frozen;

namespace ProDesk.Domain.Sla;

/// <summary>
/// Business-time arithmetic for one tenant: a time zone, weekly opening hours and holidays.
/// Answers SLA deadlines (<see cref="AddBusinessTime"/>) and the open time a pausable clock has
/// used (<see cref="BusinessTimeBetween"/>). Results are instants at UTC offset 0.
/// </summary>
/// <remarks>
/// The rules, chosen so that every question has one answer:
/// <list type="bullet">
/// <item>Business time is real elapsed time (UTC differences) while open, so a DST change inside
/// opening hours makes that day an hour shorter or longer.</item>
/// <item>Spans are local wall-clock times. A local time skipped by a spring-forward gap means the
/// first instant after the gap. When the clocks fall back, a span opens at the first occurrence
/// of its start and closes at the last occurrence of its end, so a repeated hour inside opening
/// hours counts twice.</item>
/// <item>A holiday closes its whole local date, nothing more: an overnight span is cut at local
/// midnight and each part follows its own date. The part of a 22:00-06:00 shift after midnight
/// on a holiday is closed; the shift starting on a holiday evening reopens at midnight after it.</item>
/// <item>Intervals are half-open: the opening instant is open, the closing instant is not.</item>
/// </list>
/// </remarks>
public sealed class BusinessCalendar
{
    // Searching this long without an open minute means the holidays close everything; a deadline
    // search must stop somewhere rather than walk to year 9999.
    private const int MaxClosedDays = 3653;

    // The widest UTC offsets are -12:00 and +14:00; a gap's boundary is within this of its local time.
    private static readonly TimeSpan GapSearchRadius = TimeSpan.FromHours(15);

    private readonly FrozenSet<DateOnly> _holidays;

    // Per weekday, the open pieces of that local date as offsets from its midnight, in order: the
    // tail of the previous day's overnight span first, then the day's own spans cut at midnight.
    // Cutting at midnight lets a holiday close exactly its own date.
    private readonly (TimeSpan Start, TimeSpan End)[][] _pieces;

    /// <param name="timeZone">The zone the hours and holiday dates are read in.</param>
    /// <param name="hours">Opening hours; must have some open time.</param>
    /// <param name="holidays">Local dates closed all day.</param>
    /// <exception cref="ArgumentException">The hours have no open time at all.</exception>
    public BusinessCalendar(TimeZoneInfo timeZone, WeeklyHours hours, IReadOnlySet<DateOnly>? holidays = null)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        ArgumentNullException.ThrowIfNull(hours);
        if (hours.TotalPerWeek <= TimeSpan.Zero)
        {
            throw new ArgumentException("The weekly hours have no open time, so no deadline could ever be reached.", nameof(hours));
        }

        TimeZone = timeZone;
        Hours = hours;
        _holidays = (holidays ?? FrozenSet<DateOnly>.Empty).ToFrozenSet();
        _pieces = new (TimeSpan, TimeSpan)[7][];
        foreach (var day in Enum.GetValues<DayOfWeek>())
        {
            var pieces = new List<(TimeSpan Start, TimeSpan End)>();
            var previousDay = (DayOfWeek)(((int)day + 6) % 7);
            // WeeklyHours keeps an overnight span last; one ending at 00:00 leaves no tail.
            if (hours.Spans(previousDay) is [.., { IsOvernight: true } overnight] && overnight.End != TimeOnly.MinValue)
            {
                pieces.Add((TimeSpan.Zero, overnight.End.ToTimeSpan()));
            }

            foreach (var span in hours.Spans(day))
            {
                pieces.Add((span.Start.ToTimeSpan(), span.IsOvernight ? TimeSpan.FromDays(1) : span.End.ToTimeSpan()));
            }

            _pieces[(int)day] = [.. pieces];
        }
    }

    public TimeZoneInfo TimeZone { get; }

    public WeeklyHours Hours { get; }

    public IReadOnlySet<DateOnly> Holidays => _holidays;

    /// <summary>Whether <paramref name="instant"/> lies inside opening hours.</summary>
    public bool IsOpen(DateTimeOffset instant) => OpenIntervals(instant, instant.AddTicks(1)).Any();

    /// <summary>
    /// The first open instant at or after <paramref name="instant"/>: the instant itself when open.
    /// </summary>
    /// <exception cref="InvalidOperationException">Holidays close the next ten years.</exception>
    public DateTimeOffset NextOpening(DateTimeOffset instant) => OpenIntervals(instant, until: null).First().Start;

    /// <summary>
    /// The instant at which <paramref name="target"/> of open time has elapsed after
    /// <paramref name="start"/>. A start in closed time starts the clock at the next opening. A
    /// zero target returns <paramref name="start"/> itself (at offset 0) even when closed: nothing
    /// has to elapse. A deadline that uses up an interval exactly is that interval's closing
    /// instant (Friday 16:00 + 1h on 09-17 is Friday 17:00, not Monday 09:00).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Holidays close the next ten years.</exception>
    public DateTimeOffset AddBusinessTime(DateTimeOffset start, TimeSpan target)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(target, TimeSpan.Zero);
        if (target == TimeSpan.Zero)
        {
            return start.ToUniversalTime();
        }

        var remaining = target;
        foreach (var (open, close) in OpenIntervals(start, until: null))
        {
            var length = close - open;
            if (remaining <= length)
            {
                return open + remaining;
            }

            remaining -= length;
        }

        // OpenIntervals without a bound either yields forever or throws.
        throw new InvalidOperationException("Unreachable: the open intervals ended without a bound.");
    }

    /// <summary>The open time between two instants; zero when <paramref name="to"/> is not after <paramref name="from"/>.</summary>
    public TimeSpan BusinessTimeBetween(DateTimeOffset from, DateTimeOffset to)
    {
        var total = TimeSpan.Zero;
        if (to <= from)
        {
            return total;
        }

        foreach (var (open, close) in OpenIntervals(from, to))
        {
            total += close - open;
        }

        return total;
    }

    /// <summary>
    /// Open intervals in order, clipped to [<paramref name="from"/>, <paramref name="until"/>),
    /// never overlapping (DST overlaps near midnight could otherwise count an hour twice). One
    /// local date at a time, so long targets cost a few calls per day, not per minute.
    /// </summary>
    private IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> OpenIntervals(DateTimeOffset from, DateTimeOffset? until)
    {
        // Start a day early: with DST, a piece of the previous local date can end after from.
        var date = LocalDate(from).AddDays(-1);
        var lastDate = until is { } bound ? LocalDate(bound).AddDays(1) : DateOnly.MaxValue;
        var previousEnd = from.ToUniversalTime();
        var lastOpenDate = date;
        for (; date <= lastDate; date = date.AddDays(1))
        {
            if (!_holidays.Contains(date))
            {
                var midnight = date.ToDateTime(TimeOnly.MinValue);
                foreach (var (startOffset, endOffset) in _pieces[(int)date.DayOfWeek])
                {
                    var end = ToInstant(midnight + endOffset, latest: true);
                    if (end <= previousEnd)
                    {
                        continue;
                    }

                    var start = ToInstant(midnight + startOffset, latest: false);
                    if (start < previousEnd)
                    {
                        start = previousEnd;
                    }

                    if (until is { } limit)
                    {
                        if (start >= limit)
                        {
                            yield break;
                        }

                        if (end > limit)
                        {
                            end = limit;
                        }
                    }

                    yield return (start, end);
                    previousEnd = end;
                    lastOpenDate = date;
                }
            }

            if (until is null && date.DayNumber - lastOpenDate.DayNumber > MaxClosedDays)
            {
                throw new InvalidOperationException(
                    $"The business calendar is closed for ten years after {lastOpenDate:yyyy-MM-dd}; its holidays cover every opening.");
            }
        }
    }

    private DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime);

    /// <summary>
    /// The UTC instant of a local wall-clock time. A time in a spring-forward gap is the first
    /// instant after the gap; a repeated time is its first occurrence, or its last when
    /// <paramref name="latest"/> (span ends), so a span covers the whole repeated hour.
    /// </summary>
    private DateTimeOffset ToInstant(DateTime local, bool latest)
    {
        if (TimeZone.IsInvalidTime(local))
        {
            return FirstInstantAfterGap(local);
        }

        // Offsets are subtracted in ticks: historical offsets (local mean time) may have seconds,
        // which the DateTimeOffset constructor refuses.
        TimeSpan offset;
        if (TimeZone.IsAmbiguousTime(local))
        {
            var offsets = TimeZone.GetAmbiguousTimeOffsets(local);
            offset = latest ? offsets.Min() : offsets.Max();
        }
        else
        {
            offset = TimeZone.GetUtcOffset(local);
        }

        return new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero);
    }

    /// <summary>
    /// The first instant whose wall-clock reading is at or after <paramref name="local"/>: where
    /// the clock jumps over it, that is the transition itself. Found by bisection on ticks, since
    /// TimeZoneInfo does not expose transition instants directly; gaps are rare, so this is cheap.
    /// </summary>
    private DateTimeOffset FirstInstantAfterGap(DateTime local)
    {
        var low = local.Ticks - GapSearchRadius.Ticks;  // reads before local whatever the offset
        var high = local.Ticks + GapSearchRadius.Ticks; // reads after local whatever the offset
        while (high - low > 1)
        {
            var middle = low + ((high - low) / 2);
            var instant = new DateTimeOffset(middle, TimeSpan.Zero);
            if (middle + TimeZone.GetUtcOffset(instant).Ticks >= local.Ticks)
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        return new DateTimeOffset(high, TimeSpan.Zero);
    }
}
