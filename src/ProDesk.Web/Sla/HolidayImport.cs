using System.Diagnostics;
using Ical.Net;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Evaluation;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Sla;

/// <summary>
/// Reads holidays from an iCalendar file (RFC 5545, as exported by Outlook, Google Calendar or a
/// public holiday feed): every VEVENT gives the dates it covers, named after its SUMMARY.
/// <list type="bullet">
/// <item>An all-day event covers each date from its start up to its (exclusive) end: a three-day closure gives three dates.</item>
/// <item>A timed event gives the date its start falls on in the tenant's time zone (a 23:30 UTC event is the next day in Paris).</item>
/// <item>A recurring event (RRULE, RDATE, EXDATE) gives its occurrences from today up to <see cref="HorizonYears"/> years ahead.</item>
/// </list>
/// The file comes from outside, so the work it may cause is bounded: no sub-daily recurrences, at most
/// <see cref="MaxOccurrencesPerEvent"/> occurrences per event, and <see cref="TimeBudget"/> of parsing in all.
/// </summary>
public static class HolidayImport
{
    public const int MaxBytes = 1024 * 1024;

    public const int MaxEvents = 5_000;

    public const int HorizonYears = 2;

    public const int MaxOccurrencesPerEvent = 1_000;

    /// <summary>A single event longer than this is not a holiday but a mistake (or an attempt to fill the calendar).</summary>
    public const int MaxDaysPerEvent = 366;

    public const int MaxNameLength = 200;

    public static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The dates of the file, each once (the first event naming a date wins), in date order; or null and
    /// the problem, worded for the uploader.
    /// </summary>
    public static IReadOnlyList<HolidayDocument>? Parse(string ics, TimeZoneInfo zone, DateOnly today, out string? error)
    {
        error = null;
        var started = Stopwatch.GetTimestamp();
        Calendar? calendar;
        try
        {
            calendar = Calendar.Load(ics);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The parser throws a variety of types on malformed input; all of them mean "not a calendar we can read".
            error = $"not a readable iCalendar file: {Shorten(e.Message)}";
            return null;
        }

        if (calendar is null)
        {
            error = "not an iCalendar file: expected BEGIN:VCALENDAR";
            return null;
        }

        var events = calendar.Events.ToList();
        if (events.Count == 0)
        {
            error = "the calendar has no VEVENT to import";
            return null;
        }

        if (events.Count > MaxEvents)
        {
            error = $"the calendar has {events.Count} events; at most {MaxEvents} can be imported at once";
            return null;
        }

        var horizon = today.AddYears(HorizonYears);
        var found = new Dictionary<DateOnly, string>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var name = Name(e);
            if (string.Equals(e.Status, "CANCELLED", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (e.DtStart is null)
            {
                error = $"event {i + 1} ('{name}') has no valid DTSTART";
                return null;
            }

            IEnumerable<DateOnly> dates;
            try
            {
                dates = Dates(e, zone, today, horizon, out var eventError) ?? [];
                if (eventError is not null)
                {
                    error = $"event {i + 1} ('{name}') {eventError}";
                    return null;
                }
            }
            catch (ArgumentOutOfRangeException)
            {
                // Dates at the edge of the calendar (year 9999 and the like): a runtime's message would say nothing to a person.
                error = $"event {i + 1} ('{name}') has a date out of range";
                return null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = $"event {i + 1} ('{name}') cannot be read: {Shorten(ex.Message)}";
                return null;
            }

            foreach (var date in dates)
            {
                found.TryAdd(date, name);
            }

            if (Stopwatch.GetElapsedTime(started) > TimeBudget)
            {
                error = $"the calendar takes too long to read (stopped at event {i + 1} of {events.Count}); split it into smaller files";
                return null;
            }
        }

        return [.. found.OrderBy(d => d.Key).Select(d => new HolidayDocument { Date = d.Key, Name = d.Value })];
    }

    private static List<DateOnly>? Dates(CalendarEvent e, TimeZoneInfo zone, DateOnly today, DateOnly horizon, out string? error)
    {
        error = null;
        var dates = new List<DateOnly>();
        if (e.RecurrenceRule is null && !e.RecurrenceDates.GetAllPeriods().Any())
        {
            // One occurrence, read as written: no recurrence evaluation, so a zone Ical.Net cannot resolve still works.
            var start = e.DtStart!;
            if (start.HasTime)
            {
                dates.Add(LocalDate(start, zone));
                return dates;
            }

            var end = e.DtEnd?.Date ?? (e.Duration is { } duration ? start.Add(duration).Date : start.Date.AddDays(1));
            return AddDays(dates, start.Date, end, out error) ? dates : null;
        }

        if (e.RecurrenceRule is { } rule && (rule.Frequency < FrequencyType.Daily || rule.ByHour.Count > 0 || rule.ByMinute.Count > 0 || rule.BySecond.Count > 0))
        {
            // BYHOUR/BYMINUTE/BYSECOND would multiply a daily rule into thousands of occurrences a day.
            error = $"recurs {rule.Frequency.ToString().ToLowerInvariant()} or within a day; a holiday recurs daily at most";
            return null;
        }

        // From the start of today in the tenant's zone: earlier occurrences are of no use to a deadline.
        var occurrences = e.GetOccurrences(new CalDateTime(today, TimeOnly.MinValue, zone.Id), new EvaluationOptions { MaxUnmatchedIncrementsLimit = 1_000 })
            .TakeWhile(o => LocalDate(o.Period.StartTime, zone) < horizon);
        var count = 0;
        foreach (var occurrence in occurrences)
        {
            if (++count > MaxOccurrencesPerEvent)
            {
                error = $"recurs more than {MaxOccurrencesPerEvent} times in the next {HorizonYears} years";
                return null;
            }

            var start = occurrence.Period.StartTime;
            if (start.HasTime)
            {
                dates.Add(LocalDate(start, zone));
            }
            else if (!AddDays(dates, start.Date, occurrence.Period.EffectiveEndTime?.Date ?? start.Date.AddDays(1), out error))
            {
                return null;
            }
        }

        return dates;
    }

    /// <summary>An all-day span: DTEND is exclusive (RFC 5545 3.6.1), and a span without one covers its start date.</summary>
    private static bool AddDays(List<DateOnly> dates, DateOnly start, DateOnly end, out string? error)
    {
        error = null;
        var days = Math.Max(1, end.DayNumber - start.DayNumber);
        if (days > MaxDaysPerEvent)
        {
            error = $"lasts {days} days; an all-day holiday lasts at most {MaxDaysPerEvent}";
            return false;
        }

        for (var d = 0; d < days; d++)
        {
            dates.Add(start.AddDays(d));
        }

        return true;
    }

    /// <summary>
    /// The date a timed start falls on in the tenant's zone. A floating time (no zone) is already local; a
    /// zone Ical.Net cannot resolve (a custom VTIMEZONE name) keeps the date as written.
    /// </summary>
    private static DateOnly LocalDate(CalDateTime start, TimeZoneInfo zone)
    {
        if (!start.HasTime || start.IsFloating)
        {
            return start.Date;
        }

        try
        {
            return DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(start.AsUtc, DateTimeKind.Utc), zone));
        }
        catch (ArgumentException)
        {
            return start.Date;
        }
    }

    private static string Name(CalendarEvent e)
    {
        var name = string.Join(' ', (e.Summary ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return name.Length == 0 ? "Holiday" : ColumnText.Fit(name, MaxNameLength);
    }

    private static string Shorten(string message)
    {
        var oneLine = message.ReplaceLineEndings(" ");
        return oneLine.Length > 200 ? ColumnText.Fit(oneLine, 200) + "…" : oneLine;
    }
}
