using System.Globalization;
using ProDesk.Domain.Sla;

namespace ProDesk.Domain.Tests.Sla;

/// <summary>The clock a client audits: each case is a sequence of events and the deadline an agent would see.</summary>
public sealed class SlaClockTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    // Monday to Friday, 09:00-17:00 in Paris.
    private static readonly BusinessCalendar Office = new(Paris, WeeklyHours.Create(
        new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday }
            .ToDictionary(d => d, d => (IReadOnlyList<TimeRange>)[TimeRange.TryParse("09:00-17:00", out var error) ?? throw new ArgumentException(error)]),
        out var problem) ?? throw new ArgumentException(problem));

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static SlaClockEvent Start(SlaTarget target, string at, double hours) => new(target, SlaClockEventKind.Started, At(at), TimeSpan.FromHours(hours));

    private static SlaClockEvent Event(SlaTarget target, SlaClockEventKind kind, string at) => new(target, kind, At(at));

    private static SlaClockState Only(params SlaClockEvent[] events) => Assert.Single(SlaClock.Replay(events, Office));

    [Fact]
    public void A_started_clock_is_due_after_its_goal_in_business_hours()
    {
        var state = Only(Start(SlaTarget.Resolution, "2026-03-06T16:00+01:00", 4));

        Assert.Equal(SlaClockStatus.Running, state.Status);
        Assert.Equal(At("2026-03-09T12:00+01:00"), state.DueAt);
    }

    [Theory]
    [InlineData(true)] // the sweeper recorded the breach
    [InlineData(false)] // still running and overdue when the customer wrote again
    public void A_missed_next_response_stays_missed_when_the_customer_writes_again_and_a_new_one_starts(bool recorded)
    {
        List<SlaClockEvent> events = [Start(SlaTarget.NextResponse, "2026-03-09T09:00+01:00", 1)];
        if (recorded)
        {
            events.Add(Event(SlaTarget.NextResponse, SlaClockEventKind.Breached, "2026-03-09T10:00+01:00"));
            events.Add(Event(SlaTarget.NextResponse, SlaClockEventKind.Met, "2026-03-09T11:00+01:00"));
        }

        events.Add(Start(SlaTarget.NextResponse, "2026-03-09T12:00+01:00", 1));
        var state = Only([.. events]);

        Assert.Equal((SlaClockStatus.Running, false, true, true), (state.Status, state.Breached, state.BreachedEarlier, state.EverBreached));
        Assert.Equal(At("2026-03-09T13:00+01:00"), state.DueAt);
    }

    [Fact]
    public void A_next_response_met_in_time_leaves_no_breach_on_the_next_measurement()
    {
        var state = Only(
            Start(SlaTarget.NextResponse, "2026-03-09T09:00+01:00", 1),
            Event(SlaTarget.NextResponse, SlaClockEventKind.Met, "2026-03-09T09:30+01:00"),
            Start(SlaTarget.NextResponse, "2026-03-09T12:00+01:00", 1));

        Assert.False(state.EverBreached);
    }

    [Fact]
    public void A_pause_stops_the_clock_and_the_resume_pushes_the_deadline_by_the_time_paused()
    {
        // 1 h used on Monday morning, paused until Tuesday 10:00: 3 h left, so due Tuesday 13:00.
        var state = Only(
            Start(SlaTarget.Resolution, "2026-03-09T09:00+01:00", 4),
            Event(SlaTarget.Resolution, SlaClockEventKind.Paused, "2026-03-09T10:00+01:00"),
            Event(SlaTarget.Resolution, SlaClockEventKind.Resumed, "2026-03-10T10:00+01:00"));

        Assert.Equal(TimeSpan.FromHours(1), state.Elapsed);
        Assert.Equal(At("2026-03-10T13:00+01:00"), state.DueAt);
    }

    [Fact]
    public void A_paused_clock_has_no_due_time_and_says_since_when_it_waits()
    {
        var state = Only(
            Start(SlaTarget.Resolution, "2026-03-09T09:00+01:00", 4),
            Event(SlaTarget.Resolution, SlaClockEventKind.Paused, "2026-03-09T11:30+01:00"));

        Assert.Equal(SlaClockStatus.Paused, state.Status);
        Assert.Null(state.DueAt);
        Assert.Equal(At("2026-03-09T11:30+01:00"), state.PausedSince);
        Assert.Equal(TimeSpan.FromHours(1.5), state.Remaining);
    }

    [Fact]
    public void Met_in_time_is_not_a_breach_and_met_late_is()
    {
        var inTime = Only(Start(SlaTarget.FirstResponse, "2026-03-09T09:00+01:00", 1), Event(SlaTarget.FirstResponse, SlaClockEventKind.Met, "2026-03-09T09:59+01:00"));
        var late = Only(Start(SlaTarget.FirstResponse, "2026-03-09T09:00+01:00", 1), Event(SlaTarget.FirstResponse, SlaClockEventKind.Met, "2026-03-09T10:01+01:00"));

        Assert.Equal((SlaClockStatus.Met, false), (inTime.Status, inTime.Breached));
        Assert.Equal((SlaClockStatus.Met, true), (late.Status, late.Breached));
        Assert.Equal(At("2026-03-09T10:00+01:00"), late.DueAt);
    }

    [Fact]
    public void Time_outside_business_hours_does_not_count_against_the_goal()
    {
        // Started Friday 16:30, answered Monday 09:20: 50 business minutes of a 1 h goal.
        var state = Only(Start(SlaTarget.FirstResponse, "2026-03-06T16:30+01:00", 1), Event(SlaTarget.FirstResponse, SlaClockEventKind.Met, "2026-03-09T09:20+01:00"));

        Assert.False(state.Breached);
        Assert.Equal(TimeSpan.FromMinutes(50), state.Elapsed);
    }

    [Fact]
    public void A_reopened_resolution_continues_from_the_time_already_used()
    {
        var state = Only(
            Start(SlaTarget.Resolution, "2026-03-09T09:00+01:00", 8),
            Event(SlaTarget.Resolution, SlaClockEventKind.Met, "2026-03-09T15:00+01:00"),
            Event(SlaTarget.Resolution, SlaClockEventKind.Resumed, "2026-03-10T09:00+01:00"));

        Assert.Equal(SlaClockStatus.Running, state.Status);
        Assert.Equal(At("2026-03-10T11:00+01:00"), state.DueAt);
    }

    [Fact]
    public void A_next_response_starts_afresh_with_every_follow_up()
    {
        var state = Only(
            Start(SlaTarget.NextResponse, "2026-03-09T09:00+01:00", 2),
            Event(SlaTarget.NextResponse, SlaClockEventKind.Met, "2026-03-09T12:00+01:00"),
            Start(SlaTarget.NextResponse, "2026-03-09T14:00+01:00", 2));

        Assert.Equal((SlaClockStatus.Running, false), (state.Status, state.Breached));
        Assert.Equal(At("2026-03-09T16:00+01:00"), state.DueAt);
    }

    [Fact]
    public void Warning_thresholds_fall_at_their_share_of_the_goal_in_business_time()
    {
        var state = Only(Start(SlaTarget.Resolution, "2026-03-06T16:00+01:00", 4));

        Assert.Equal(At("2026-03-09T11:00+01:00"), state.ThresholdAt(75, Office));
        Assert.Equal(At("2026-03-09T12:00+01:00"), state.ThresholdAt(100, Office));
    }

    [Fact]
    public void Events_for_a_target_that_never_started_change_nothing_and_targets_are_kept_apart()
    {
        var states = SlaClock.Replay(
            [
                Event(SlaTarget.NextResponse, SlaClockEventKind.Met, "2026-03-09T09:30+01:00"),
                Start(SlaTarget.FirstResponse, "2026-03-09T09:00+01:00", 1),
                Start(SlaTarget.Resolution, "2026-03-09T09:00+01:00", 8),
                Event(SlaTarget.FirstResponse, SlaClockEventKind.Met, "2026-03-09T09:30+01:00"),
            ],
            Office);

        Assert.Equal([SlaTarget.FirstResponse, SlaTarget.Resolution], states.Select(s => s.Target));
        Assert.Equal(SlaClockStatus.Met, states[0].Status);
        Assert.Equal(SlaClockStatus.Running, states[1].Status);
    }

    [Fact]
    public void A_breach_recorded_by_the_sweeper_stays_on_the_clock()
    {
        var state = Only(
            Start(SlaTarget.FirstResponse, "2026-03-09T09:00+01:00", 1),
            Event(SlaTarget.FirstResponse, SlaClockEventKind.Breached, "2026-03-09T10:00+01:00"));

        Assert.True(state.Breached);
        Assert.Equal(SlaClockStatus.Running, state.Status);
    }
}
