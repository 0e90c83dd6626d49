using System.Text;
using Ical.Net;
using Ical.Net.DataTypes;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// What a calendar mail says, as text for the agent: Outlook's cancellations and replies ("Accepted: …") are a
/// text/calendar part and nothing else, which left the message empty. Read with Ical.Net (as holiday imports are)
/// from the first VEVENT; null when there is none or the calendar cannot be read.
/// </summary>
public static class CalendarSummary
{
    /// <summary>Calendars longer than this are not read for a summary (a whole exported calendar is no invitation).</summary>
    private const int MaxLength = 256 * 1024;

    public static bool IsCalendar(string contentType) =>
        contentType is "text/calendar" or "application/ics" or "text/x-vcalendar" or "application/x-ics";

    /// <summary>The same calendar object, whatever line break ends it (a MIME boundary takes the last one of a part).</summary>
    public static bool Same(byte[] one, byte[] other) => one.AsSpan().TrimEnd("\r\n "u8).SequenceEqual(other.AsSpan().TrimEnd("\r\n "u8));

    /// <param name="ics">The calendar as text, decoded by the caller in the charset its part declares (Notes writes ISO-8859-1).</param>
    public static string? Of(string ics)
    {
        if (ics.Length > MaxLength)
        {
            return null;
        }

        Calendar? calendar;
        try
        {
            calendar = Calendar.Load(ics);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Ical.Net throws a variety of types on malformed input (as HolidayImport found): no summary then.
            return null;
        }

        if (calendar?.Events.FirstOrDefault() is not { } meeting)
        {
            return null;
        }

        var title = Text(meeting.Summary) ?? "(no title)";
        var cancelled = string.Equals(meeting.Status, "CANCELLED", StringComparison.OrdinalIgnoreCase);
        var attendee = meeting.Attendees.FirstOrDefault();
        var headline = calendar.Method?.Trim().ToUpperInvariant() switch
        {
            "CANCEL" => $"Meeting cancelled: {title}",
            "REPLY" => $"{Person(attendee?.CommonName, attendee?.Value) ?? "An attendee"} {Answer(attendee?.ParticipationStatus)}: {title}",
            "COUNTER" => $"New time proposed: {title}",
            "REQUEST" => cancelled ? $"Meeting cancelled: {title}" : $"Meeting invitation: {title}",
            _ => cancelled ? $"Meeting cancelled: {title}" : $"Event: {title}",
        };

        var summary = new StringBuilder(headline).Append('\n');
        if (When(meeting.DtStart, meeting.DtEnd) is { } when)
        {
            summary.Append("When: ").Append(when).Append('\n');
        }

        if (Text(meeting.Location) is { } location)
        {
            summary.Append("Where: ").Append(location).Append('\n');
        }

        if (Person(meeting.Organizer?.CommonName, meeting.Organizer?.Value) is { } organizer)
        {
            summary.Append("Organizer: ").Append(organizer).Append('\n');
        }

        if (Text(meeting.Description) is { } description)
        {
            summary.Append('\n').Append(description).Append('\n');
        }

        return summary.ToString().TrimEnd();
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? When(CalDateTime? start, CalDateTime? end)
    {
        if (start is null)
        {
            return null;
        }

        if (!start.HasTime)
        {
            return $"{start.Value:yyyy-MM-dd} (all day)";
        }

        var zone = start.TzId is { Length: > 0 } tzid && !start.IsUtc ? $" ({tzid})" : start.IsUtc ? " (UTC)" : "";
        var until = end is null ? "" : end.Value.Date == start.Value.Date ? $"–{end.Value:HH:mm}" : $" – {end.Value:yyyy-MM-dd HH:mm}";
        return $"{start.Value:yyyy-MM-dd HH:mm}{until}{zone}";
    }

    private static string Answer(string? participation) => participation?.ToUpperInvariant() switch
    {
        "ACCEPTED" => "accepted",
        "DECLINED" => "declined",
        "TENTATIVE" => "tentatively accepted",
        "DELEGATED" => "delegated",
        _ => "replied to",
    };

    private static string? Person(string? name, Uri? address)
    {
        var mail = address?.OriginalString.Trim() is { Length: > 0 } written
            ? written.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? written[7..] : written
            : null;
        return (Text(name), mail) switch
        {
            (null, null) => null,
            (null, { } only) => only,
            ({ } cn, null) => cn,
            ({ } cn, { } both) => $"{cn} <{both}>",
        };
    }
}
