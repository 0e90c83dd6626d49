using ProDesk.Domain.Sla;

namespace ProDesk.Domain.Tests.Sla;

public sealed class WeeklyHoursTests
{
    private static TimeRange Span(string text) => TimeRange.TryParse(text, out var error) ?? throw new ArgumentException(error);

    private static WeeklyHours? Week(out string? error, params (DayOfWeek Day, string[] Spans)[] days) =>
        WeeklyHours.Create(days.ToDictionary(d => d.Day, d => (IReadOnlyList<TimeRange>)d.Spans.Select(Span).ToList()), out error);

    [Fact]
    public void A_split_shift_counts_both_spans()
    {
        var week = Week(out var error, (DayOfWeek.Monday, ["08:30-12:30", "13:30-18:00"]));
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromHours(8.5), week!.TotalPerWeek);
        Assert.Equal(2, week.Spans(DayOfWeek.Monday).Count);
        Assert.Empty(week.Spans(DayOfWeek.Sunday));
    }

    [Fact]
    public void An_overnight_span_runs_past_midnight()
    {
        var span = Span("22:00-06:00");
        Assert.True(span.IsOvernight);
        Assert.Equal(TimeSpan.FromHours(8), span.Length);
        var week = Week(out var error, (DayOfWeek.Monday, ["09:00-18:00", "22:00-06:00"]), (DayOfWeek.Tuesday, ["09:00-18:00"]));
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromHours(9 + 8 + 9), week!.TotalPerWeek);
    }

    [Fact]
    public void Overlapping_spans_are_refused_with_the_day_named()
    {
        Assert.Null(Week(out var error, (DayOfWeek.Wednesday, ["09:00-13:00", "12:00-17:00"])));
        Assert.Contains("Wednesday", error, StringComparison.Ordinal);
        Assert.Contains("overlaps", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_overnight_span_may_not_run_into_the_next_days_opening()
    {
        Assert.Null(Week(out var error, (DayOfWeek.Sunday, ["20:00-08:00"]), (DayOfWeek.Monday, ["07:00-12:00"])));
        Assert.Contains("runs into Monday", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_overnight_span_must_be_the_days_last()
    {
        Assert.Null(Week(out var error, (DayOfWeek.Friday, ["22:00-02:00", "23:00-23:30"])));
        Assert.NotNull(error);
    }

    [Fact]
    public void Always_open_is_the_whole_week()
    {
        Assert.True(WeeklyHours.AlwaysOpen.IsAlwaysOpen);
        Assert.Equal(TimeSpan.FromDays(7), WeeklyHours.AlwaysOpen.TotalPerWeek);
        Assert.False(Week(out _, (DayOfWeek.Monday, ["09:00-17:00"]))!.IsAlwaysOpen);
    }

    [Theory]
    [InlineData("9-17")]
    [InlineData("09:00")]
    [InlineData("25:00-26:00")]
    [InlineData("09:00-17:00-18:00")]
    [InlineData("")]
    [InlineData(null)]
    public void Malformed_spans_are_refused_with_the_expected_shape(string? text)
    {
        Assert.Null(TimeRange.TryParse(text, out var error));
        Assert.Contains("09:00-17:30", error, StringComparison.Ordinal);
    }
}
