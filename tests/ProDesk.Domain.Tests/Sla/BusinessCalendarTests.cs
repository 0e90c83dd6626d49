using System.Globalization;
using ProDesk.Domain.Sla;

namespace ProDesk.Domain.Tests.Sla;

/// <summary>
/// Deadlines are written as local wall-clock times with the offset in force there, so each
/// expectation reads as what a customer in that zone would see on the ticket.
/// </summary>
public sealed class BusinessCalendarTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Singapore = TimeZoneInfo.FindSystemTimeZoneById("Asia/Singapore");

    private static readonly DayOfWeek[] Weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];
    private static readonly DayOfWeek[] EveryDay = Enum.GetValues<DayOfWeek>();

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static TimeSpan Hours(double hours) => TimeSpan.FromHours(hours);

    private static WeeklyHours Week(DayOfWeek[] days, params string[] spans) =>
        WeeklyHours.Create(
            days.ToDictionary(d => d, _ => (IReadOnlyList<TimeRange>)spans.Select(s => TimeRange.TryParse(s, out var error) ?? throw new ArgumentException(error)).ToList()),
            out var problem) ?? throw new ArgumentException(problem);

    private static BusinessCalendar Calendar(TimeZoneInfo zone, WeeklyHours hours, params string[] holidays) =>
        new(zone, hours, holidays.Select(h => DateOnly.Parse(h, CultureInfo.InvariantCulture)).ToHashSet());

    private static readonly BusinessCalendar ParisOffice = Calendar(Paris, Week(Weekdays, "09:00-17:00"));

    // --- office hours -------------------------------------------------------------------------

    [Fact]
    public void Friday_afternoon_work_carries_over_the_weekend_to_monday_morning() =>
        Assert.Equal(At("2026-03-09T10:00+01:00"), ParisOffice.AddBusinessTime(At("2026-03-06T16:00+01:00"), Hours(2)));

    [Fact]
    public void The_weekend_of_the_spring_change_still_gives_monday_ten_oclock_local() =>
        Assert.Equal(At("2026-03-30T10:00+02:00"), ParisOffice.AddBusinessTime(At("2026-03-27T16:00+01:00"), Hours(2)));

    [Fact]
    public void A_friday_holiday_pushes_a_thursday_afternoon_deadline_to_monday()
    {
        var withLabourDay = Calendar(Paris, Week(Weekdays, "09:00-17:00"), "2026-05-01");
        Assert.Equal(At("2026-05-04T10:00+02:00"), withLabourDay.AddBusinessTime(At("2026-04-30T16:00+02:00"), Hours(2)));
        Assert.Equal(At("2026-05-01T10:00+02:00"), ParisOffice.AddBusinessTime(At("2026-04-30T16:00+02:00"), Hours(2)));
    }

    [Fact]
    public void A_deadline_that_uses_up_the_day_exactly_is_the_closing_time_not_the_next_opening() =>
        Assert.Equal(At("2026-03-06T17:00+01:00"), ParisOffice.AddBusinessTime(At("2026-03-06T16:00+01:00"), Hours(1)));

    [Fact]
    public void A_clock_started_in_closed_time_starts_at_the_next_opening()
    {
        Assert.Equal(At("2026-03-09T10:00+01:00"), ParisOffice.AddBusinessTime(At("2026-03-07T11:00+01:00"), Hours(1)));
        Assert.Equal(At("2026-03-09T10:00+01:00"), ParisOffice.AddBusinessTime(At("2026-03-09T07:00+01:00"), Hours(1)));
        Assert.Equal(At("2026-03-09T09:30+01:00"), ParisOffice.AddBusinessTime(At("2026-03-06T17:00+01:00"), TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void A_zero_target_returns_the_start_even_when_closed()
    {
        var saturday = At("2026-03-07T11:00+01:00");
        Assert.Equal(saturday, ParisOffice.AddBusinessTime(saturday, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParisOffice.AddBusinessTime(saturday, Hours(-1)));
    }

    [Fact]
    public void Deadlines_come_back_in_utc()
    {
        var deadline = ParisOffice.AddBusinessTime(At("2026-03-06T16:00+01:00"), Hours(2));
        Assert.Equal(TimeSpan.Zero, deadline.Offset);
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 9, 0, 0, TimeSpan.Zero), deadline);
    }

    [Fact]
    public void Split_shifts_skip_the_lunch_break()
    {
        var calendar = Calendar(Paris, Week(Weekdays, "09:00-12:00", "14:00-18:00"));
        Assert.Equal(At("2026-03-02T16:00+01:00"), calendar.AddBusinessTime(At("2026-03-02T11:00+01:00"), Hours(3)));
        Assert.Equal(At("2026-03-02T15:00+01:00"), calendar.AddBusinessTime(At("2026-03-02T12:30+01:00"), Hours(1)));
        Assert.Equal(At("2026-03-09T10:00+01:00"), calendar.AddBusinessTime(At("2026-03-06T17:00+01:00"), Hours(2)));
        Assert.Equal(Hours(7), calendar.BusinessTimeBetween(At("2026-03-02T00:00+01:00"), At("2026-03-03T00:00+01:00")));
    }

    [Fact]
    public void Targets_longer_than_a_week_land_on_the_right_working_day()
    {
        var monday = At("2026-01-05T09:00+01:00");
        // 60h = five 8h days, then two more, then 4h on the Wednesday.
        Assert.Equal(At("2026-01-14T13:00+01:00"), ParisOffice.AddBusinessTime(monday, Hours(60)));
        // 200h = exactly five working weeks.
        Assert.Equal(At("2026-02-06T17:00+01:00"), ParisOffice.AddBusinessTime(monday, Hours(200)));
        // 2000h = fifty working weeks, across both DST changes: still 17:00 local.
        Assert.Equal(At("2026-12-18T17:00+01:00"), ParisOffice.AddBusinessTime(monday, Hours(2000)));
    }

    [Fact]
    public void Open_and_next_opening_treat_the_opening_instant_as_open_and_the_closing_instant_as_closed()
    {
        Assert.True(ParisOffice.IsOpen(At("2026-03-06T09:00+01:00")));
        Assert.True(ParisOffice.IsOpen(At("2026-03-06T16:59:59+01:00")));
        Assert.False(ParisOffice.IsOpen(At("2026-03-06T17:00+01:00")));
        Assert.False(ParisOffice.IsOpen(At("2026-03-07T12:00+01:00")));
        Assert.Equal(At("2026-03-09T09:00+01:00"), ParisOffice.NextOpening(At("2026-03-06T17:00+01:00")));
        Assert.Equal(At("2026-03-06T11:15+01:00"), ParisOffice.NextOpening(At("2026-03-06T11:15+01:00")));
        Assert.Equal(At("2026-03-30T09:00+02:00"), ParisOffice.NextOpening(At("2026-03-28T12:00+01:00")));
    }

    [Fact]
    public void Business_time_between_counts_only_open_hours_and_is_zero_backwards()
    {
        Assert.Equal(Hours(2), ParisOffice.BusinessTimeBetween(At("2026-03-06T16:00+01:00"), At("2026-03-09T10:00+01:00")));
        Assert.Equal(Hours(40), ParisOffice.BusinessTimeBetween(At("2026-03-02T00:00+01:00"), At("2026-03-09T00:00+01:00")));
        Assert.Equal(TimeSpan.Zero, ParisOffice.BusinessTimeBetween(At("2026-03-09T10:00+01:00"), At("2026-03-06T16:00+01:00")));
        Assert.Equal(TimeSpan.Zero, ParisOffice.BusinessTimeBetween(At("2026-03-07T10:00+01:00"), At("2026-03-08T10:00+01:00")));
    }

    // --- overnight shifts and holidays ---------------------------------------------------------

    [Fact]
    public void An_overnight_shift_continues_after_midnight_and_resumes_the_next_evening()
    {
        var nights = Calendar(Singapore, Week(Weekdays, "22:00-06:00"));
        // 7h until Tuesday 06:00, then 1h of Tuesday night's shift.
        Assert.Equal(At("2026-03-03T23:00+08:00"), nights.AddBusinessTime(At("2026-03-02T23:00+08:00"), Hours(8)));
        Assert.True(nights.IsOpen(At("2026-03-03T05:59+08:00")));
        Assert.False(nights.IsOpen(At("2026-03-03T06:00+08:00")));
        // Friday's shift runs into Saturday morning; Saturday evening has none.
        Assert.Equal(At("2026-03-09T22:30+08:00"), nights.AddBusinessTime(At("2026-03-07T05:00+08:00"), Hours(1.5)));
    }

    [Fact]
    public void A_holiday_closes_its_date_including_the_hours_after_midnight_of_an_overnight_shift()
    {
        // Christmas 2026 is a Friday. Thursday night's shift stops at midnight; Friday night's
        // shift is closed until midnight and then runs as usual into Saturday.
        var nights = Calendar(Paris, Week(EveryDay, "22:00-06:00"), "2026-12-25");
        Assert.Equal(At("2026-12-26T01:00+01:00"), nights.AddBusinessTime(At("2026-12-24T22:00+01:00"), Hours(3)));
        Assert.False(nights.IsOpen(At("2026-12-25T01:00+01:00")));
        Assert.False(nights.IsOpen(At("2026-12-25T23:00+01:00")));
        Assert.True(nights.IsOpen(At("2026-12-26T00:00+01:00")));
        Assert.Equal(At("2026-12-26T00:00+01:00"), nights.NextOpening(At("2026-12-25T00:00+01:00")));
        Assert.Equal(Hours(2 + 6 + 2 + 6), nights.BusinessTimeBetween(At("2026-12-24T12:00+01:00"), At("2026-12-27T12:00+01:00")));
    }

    // --- daylight saving time ------------------------------------------------------------------

    [Fact]
    public void A_paris_night_shift_is_an_hour_shorter_on_the_spring_change()
    {
        var nights = Calendar(Paris, Week(EveryDay, "22:00-06:00"));
        // 22:00 CET to 06:00 CEST is seven real hours: the whole shift.
        Assert.Equal(At("2026-03-29T06:00+02:00"), nights.AddBusinessTime(At("2026-03-28T22:00+01:00"), Hours(7)));
        Assert.Equal(At("2026-03-29T23:00+02:00"), nights.AddBusinessTime(At("2026-03-28T22:00+01:00"), Hours(8)));
        Assert.Equal(At("2026-03-29T04:00+02:00"), nights.AddBusinessTime(At("2026-03-29T01:00+01:00"), Hours(2)));
        Assert.Equal(Hours(7), nights.BusinessTimeBetween(At("2026-03-28T12:00+01:00"), At("2026-03-29T12:00+02:00")));
    }

    [Fact]
    public void A_paris_night_shift_is_an_hour_longer_on_the_autumn_change()
    {
        var nights = Calendar(Paris, Week(EveryDay, "22:00-06:00"));
        Assert.Equal(At("2026-10-25T06:00+01:00"), nights.AddBusinessTime(At("2026-10-24T22:00+02:00"), Hours(9)));
        Assert.Equal(At("2026-10-25T05:00+01:00"), nights.AddBusinessTime(At("2026-10-24T22:00+02:00"), Hours(8)));
        // 4h after 23:00 CEST: 00:00, 01:00, 02:00 CEST, then the repeated 02:00 CET.
        Assert.Equal(At("2026-10-25T02:00+01:00"), nights.AddBusinessTime(At("2026-10-24T23:00+02:00"), Hours(4)));
        Assert.Equal(Hours(9), nights.BusinessTimeBetween(At("2026-10-24T12:00+02:00"), At("2026-10-25T12:00+01:00")));
    }

    [Fact]
    public void A_span_starting_in_the_spring_gap_opens_when_the_clocks_reach_three()
    {
        // 02:30 does not exist in Paris on 29 March 2026: the span opens at 03:00 CEST.
        var early = Calendar(Paris, Week([DayOfWeek.Sunday], "02:30-04:00"));
        Assert.Equal(At("2026-03-29T03:00+02:00"), early.NextOpening(At("2026-03-28T12:00+01:00")));
        Assert.Equal(Hours(1), early.BusinessTimeBetween(At("2026-03-29T00:00+01:00"), At("2026-03-30T00:00+02:00")));
        Assert.Equal(Hours(1.5), early.BusinessTimeBetween(At("2026-03-22T00:00+01:00"), At("2026-03-23T00:00+01:00")));
    }

    [Fact]
    public void A_span_ending_in_the_repeated_hour_closes_at_its_second_occurrence()
    {
        // Saturday 22:00 CEST until the second 02:30 of 25 October (CET): 5.5 real hours.
        var lateShift = Calendar(Paris, Week([DayOfWeek.Saturday], "22:00-02:30"));
        Assert.Equal(Hours(5.5), lateShift.BusinessTimeBetween(At("2026-10-24T12:00+02:00"), At("2026-10-25T12:00+01:00")));
        Assert.True(lateShift.IsOpen(At("2026-10-25T02:15+01:00")));
        Assert.False(lateShift.IsOpen(At("2026-10-25T02:30+01:00")));

        // A span starting in the repeated hour opens at its first occurrence (CEST).
        var earlyShift = Calendar(Paris, Week([DayOfWeek.Sunday], "02:30-06:00"));
        Assert.Equal(At("2026-10-25T02:30+02:00"), earlyShift.NextOpening(At("2026-10-24T12:00+02:00")));
        Assert.Equal(Hours(4.5), earlyShift.BusinessTimeBetween(At("2026-10-24T12:00+02:00"), At("2026-10-25T12:00+01:00")));
    }

    [Fact]
    public void Around_the_clock_in_new_york_counts_real_hours_over_the_spring_gap()
    {
        var always = new BusinessCalendar(NewYork, WeeklyHours.AlwaysOpen);
        Assert.Equal(At("2026-03-08T03:30-04:00"), always.AddBusinessTime(At("2026-03-08T01:30-05:00"), Hours(1)));
        Assert.Equal(Hours(23), always.BusinessTimeBetween(At("2026-03-08T00:00-05:00"), At("2026-03-09T00:00-04:00")));
        Assert.True(always.IsOpen(At("2026-03-08T07:00Z")));
    }

    [Fact]
    public void Around_the_clock_in_new_york_counts_the_repeated_hour_twice_in_the_autumn()
    {
        var always = new BusinessCalendar(NewYork, WeeklyHours.AlwaysOpen);
        // One hour after the first 01:30 (EDT) is the second 01:30 (EST), 06:30Z.
        var deadline = always.AddBusinessTime(At("2026-11-01T01:30-04:00"), Hours(1));
        Assert.Equal(At("2026-11-01T06:30Z"), deadline);
        Assert.Equal(At("2026-11-01T01:30-05:00"), deadline);
        Assert.Equal(Hours(25), always.BusinessTimeBetween(At("2026-11-01T00:00-04:00"), At("2026-11-02T00:00-05:00")));
        // A year around the clock is exactly 8760 real hours, whatever the clocks did.
        Assert.Equal(At("2027-01-01T00:00-05:00"), always.AddBusinessTime(At("2026-01-01T00:00-05:00"), Hours(8760)));
    }

    [Fact]
    public void A_new_york_night_shift_across_both_clock_changes_counts_real_hours()
    {
        var nights = Calendar(NewYork, Week(EveryDay, "22:00-06:00"));
        // Spring: 22:00 EST to 06:00 EDT is 7h.
        Assert.Equal(At("2026-03-08T06:00-04:00"), nights.AddBusinessTime(At("2026-03-07T22:00-05:00"), Hours(7)));
        Assert.Equal(At("2026-03-08T22:30-04:00"), nights.AddBusinessTime(At("2026-03-07T22:00-05:00"), Hours(7.5)));
        // Autumn: 22:00 EDT to 06:00 EST is 9h.
        Assert.Equal(At("2026-11-01T06:00-05:00"), nights.AddBusinessTime(At("2026-10-31T22:00-04:00"), Hours(9)));
        // Started at the second 01:30 (EST): one more hour is 02:30 EST.
        Assert.Equal(At("2026-11-01T02:30-05:00"), nights.AddBusinessTime(At("2026-11-01T01:30-05:00"), Hours(1)));
    }

    // --- calendars that never open --------------------------------------------------------------

    [Fact]
    public void Hours_with_no_open_time_are_refused()
    {
        var closed = WeeklyHours.Create(new Dictionary<DayOfWeek, IReadOnlyList<TimeRange>>(), out _)!;
        Assert.Throws<ArgumentException>(() => new BusinessCalendar(Paris, closed));
    }

    [Fact]
    public void Holidays_covering_every_opening_for_ten_years_stop_the_search_with_a_clear_error()
    {
        var mondays = Enumerable.Range(0, 52 * 12).Select(w => new DateOnly(2026, 1, 5).AddDays(7 * w)).ToHashSet();
        var calendar = new BusinessCalendar(Paris, Week([DayOfWeek.Monday], "09:00-17:00"), mondays);
        var start = At("2026-01-01T00:00+01:00");
        var error = Assert.Throws<InvalidOperationException>(() => calendar.AddBusinessTime(start, Hours(1)));
        Assert.Contains("ten years", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => calendar.NextOpening(start));
        Assert.False(calendar.IsOpen(At("2026-01-05T10:00+01:00")));
        Assert.Equal(TimeSpan.Zero, calendar.BusinessTimeBetween(start, At("2036-01-01T00:00+01:00")));
    }

    // --- properties over a fixed set of starts and targets ---------------------------------------

    public static TheoryData<string> Calendars => ["paris-office", "paris-split", "paris-nights", "new-york-always", "new-york-nights", "singapore-mixed"];

    private static BusinessCalendar Named(string name) => name switch
    {
        "paris-office" => Calendar(Paris, Week(Weekdays, "09:00-17:00"), "2026-04-06", "2026-05-01", "2026-11-11"),
        "paris-split" => Calendar(Paris, Week(Weekdays, "09:00-12:00", "14:00-18:00")),
        "paris-nights" => Calendar(Paris, Week(EveryDay, "22:00-06:00"), "2026-03-29", "2026-10-25"),
        "new-york-always" => new BusinessCalendar(NewYork, WeeklyHours.AlwaysOpen, new HashSet<DateOnly> { new(2026, 11, 26) }),
        "new-york-nights" => Calendar(NewYork, Week(EveryDay, "01:30-02:30", "21:00-00:30")),
        "singapore-mixed" => Calendar(Singapore, Week(Weekdays, "08:00-12:00", "20:00-02:00")),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    // Starts every 7h13m through weeks around both 2026 clock changes in Europe and the US.
    private static IEnumerable<DateTimeOffset> Starts() =>
        new[] { At("2026-03-01T00:00Z"), At("2026-10-20T00:00Z") }
            .SelectMany(first => Enumerable.Range(0, 120).Select(i => first + (i * new TimeSpan(7, 13, 0))));

    private static readonly TimeSpan[] Targets = [TimeSpan.FromTicks(1), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(59), Hours(8), Hours(37.5), Hours(100)];

    [Theory]
    [MemberData(nameof(Calendars))]
    public void The_open_time_up_to_a_deadline_is_its_target(string name)
    {
        var calendar = Named(name);
        foreach (var start in Starts())
        {
            var previous = start;
            foreach (var target in Targets)
            {
                var deadline = calendar.AddBusinessTime(start, target);
                Assert.Equal(target, calendar.BusinessTimeBetween(start, deadline));
                Assert.True(deadline >= previous, $"{name}: {start:O} + {target} went backwards");
                // The last moment before a deadline is always open time.
                Assert.True(calendar.IsOpen(deadline.AddTicks(-1)), $"{name}: {start:O} + {target} = {deadline:O} ends in closed time");
                previous = deadline;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Calendars))]
    public void Adding_the_open_time_up_to_an_instant_returns_to_it_or_to_the_last_closing_before_it(string name)
    {
        var calendar = Named(name);
        foreach (var start in Starts())
        {
            foreach (var later in new[] { Hours(1), Hours(9.25), Hours(50), Hours(200) })
            {
                var to = start + later;
                var used = calendar.BusinessTimeBetween(start, to);
                var back = calendar.AddBusinessTime(start, used);
                // When the clock was running just before `to`, the time used leads back to `to`;
                // otherwise it leads to the last closing before `to`.
                if (calendar.IsOpen(to.AddTicks(-1)) && used > TimeSpan.Zero)
                {
                    Assert.Equal(to, back);
                }
                else
                {
                    Assert.True(back <= to);
                    Assert.Equal(TimeSpan.Zero, calendar.BusinessTimeBetween(back, to));
                }

                if (calendar.IsOpen(start))
                {
                    Assert.Equal(start, calendar.NextOpening(start));
                }
                else
                {
                    Assert.True(calendar.IsOpen(calendar.NextOpening(start)));
                    Assert.Equal(TimeSpan.Zero, calendar.BusinessTimeBetween(start, calendar.NextOpening(start)));
                }
            }
        }
    }
}
