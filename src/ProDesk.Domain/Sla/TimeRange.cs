using System.Globalization;

namespace ProDesk.Domain.Sla;

/// <summary>
/// One opening span on a weekday, in local time. An end at or before the start runs past
/// midnight into the next day (an overnight shift, e.g. 22:00-06:00); 00:00-00:00 is the whole day.
/// </summary>
public readonly record struct TimeRange(TimeOnly Start, TimeOnly End)
{
    public bool IsOvernight => End <= Start;

    /// <summary>The span's length; an overnight span counts the hours after midnight too.</summary>
    public TimeSpan Length => IsOvernight ? TimeSpan.FromDays(1) - (Start - End) : End - Start;

    /// <summary>Parses <c>HH:mm-HH:mm</c> (24-hour). Returns null and a reason on bad input.</summary>
    public static TimeRange? TryParse(string? text, out string? error)
    {
        error = null;
        var parts = text?.Split('-', StringSplitOptions.TrimEntries);
        if (parts is not { Length: 2 })
        {
            error = "must look like 09:00-17:30";
            return null;
        }

        if (!TimeOnly.TryParseExact(parts[0], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            || !TimeOnly.TryParseExact(parts[1], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
        {
            error = "must use 24-hour HH:mm times, like 09:00-17:30";
            return null;
        }

        return new TimeRange(start, end);
    }

    public override string ToString() => $"{Start:HH\\:mm}-{End:HH\\:mm}";
}
