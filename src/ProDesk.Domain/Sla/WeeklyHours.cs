namespace ProDesk.Domain.Sla;

/// <summary>
/// The opening hours of one week: zero or more spans per weekday (split shifts are two spans).
/// Built only through <see cref="Create"/>, which refuses overlapping spans, including an
/// overnight span that runs into the next day's first span.
/// </summary>
public sealed class WeeklyHours
{
    private readonly IReadOnlyDictionary<DayOfWeek, IReadOnlyList<TimeRange>> _days;

    private WeeklyHours(IReadOnlyDictionary<DayOfWeek, IReadOnlyList<TimeRange>> days) => _days = days;

    /// <summary>Open every minute of every day.</summary>
    public static WeeklyHours AlwaysOpen { get; } = new(Enum.GetValues<DayOfWeek>()
        .ToDictionary(d => d, _ => (IReadOnlyList<TimeRange>)[new TimeRange(TimeOnly.MinValue, TimeOnly.MinValue)]));

    public bool IsAlwaysOpen => Enum.GetValues<DayOfWeek>().All(d => Spans(d) is [{ Start.Ticks: 0, End.Ticks: 0 }]);

    public IReadOnlyList<TimeRange> Spans(DayOfWeek day) => _days.TryGetValue(day, out var spans) ? spans : [];

    /// <summary>Open hours in one week, for sanity checks and reports.</summary>
    public TimeSpan TotalPerWeek => Enum.GetValues<DayOfWeek>().SelectMany(Spans).Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Length);

    /// <summary>Builds the week, or returns the first problem found (naming the day) in <paramref name="error"/>.</summary>
    public static WeeklyHours? Create(IReadOnlyDictionary<DayOfWeek, IReadOnlyList<TimeRange>> days, out string? error)
    {
        error = null;
        var sorted = new Dictionary<DayOfWeek, IReadOnlyList<TimeRange>>();
        foreach (var (day, spans) in days)
        {
            var ordered = spans.OrderBy(s => s.Start).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var span = ordered[i];
                var isLast = i == ordered.Count - 1;
                if (span.IsOvernight && !isLast)
                {
                    error = $"{day}: the overnight span {span} must be the day's last";
                    return null;
                }

                if (!isLast && ordered[i + 1].Start < span.End)
                {
                    error = $"{day}: {span} overlaps {ordered[i + 1]}";
                    return null;
                }
            }

            sorted[day] = ordered;
        }

        // An overnight span must end before the next day's first span starts.
        foreach (var (day, spans) in sorted)
        {
            if (spans is [.., { IsOvernight: true } last] && !(last.Start == TimeOnly.MinValue && last.End == TimeOnly.MinValue))
            {
                var next = (DayOfWeek)(((int)day + 1) % 7);
                if (sorted.TryGetValue(next, out var nextSpans) && nextSpans is [var first, ..] && first.Start < last.End)
                {
                    error = $"{day}: the overnight span {last} runs into {next}'s {first}";
                    return null;
                }
            }
        }

        return new WeeklyHours(sorted);
    }
}
