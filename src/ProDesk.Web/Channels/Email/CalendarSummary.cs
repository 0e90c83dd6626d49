using System.Globalization;
using System.Text;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// What a calendar mail says, as text for the agent: Outlook's cancellations and replies ("Accepted: …") are a
/// text/calendar part and nothing else, which left the message empty. Read from the first VEVENT of an iCalendar
/// object (RFC 5545 lines, unfolded and unescaped); null when there is none.
/// </summary>
public static class CalendarSummary
{
    /// <summary>Calendar files larger than this are not read for a summary (a whole exported calendar is no invitation).</summary>
    private const int MaxBytes = 256 * 1024;

    public static bool IsCalendar(string contentType) =>
        contentType is "text/calendar" or "application/ics" or "text/x-vcalendar" or "application/x-ics";

    /// <summary>The same calendar object, whatever line break ends it (a MIME boundary takes the last one of a part).</summary>
    public static bool Same(byte[] one, byte[] other) => one.AsSpan().TrimEnd("\r\n "u8).SequenceEqual(other.AsSpan().TrimEnd("\r\n "u8));

    public static string? Of(byte[] ics)
    {
        if (ics.Length > MaxBytes)
        {
            return null;
        }

        var method = "";
        Dictionary<string, (string Parameters, string Value)>? vevent = null;
        var inEvent = false;
        foreach (var line in Unfolded(Encoding.UTF8.GetString(ics)))
        {
            var (name, parameters, value) = Split(line);
            switch (name)
            {
                case "METHOD" when !inEvent:
                    method = value.Trim().ToUpperInvariant();
                    break;
                case "BEGIN" when value.Trim().Equals("VEVENT", StringComparison.OrdinalIgnoreCase) && vevent is null:
                    inEvent = true;
                    vevent = new(StringComparer.Ordinal);
                    break;
                case "END" when value.Trim().Equals("VEVENT", StringComparison.OrdinalIgnoreCase):
                    inEvent = false;
                    break;
                default:
                    if (inEvent && name.Length > 0)
                    {
                        vevent!.TryAdd(name, (parameters, value));
                    }

                    break;
            }
        }

        if (vevent is null)
        {
            return null;
        }

        string? Text(string property) => vevent.TryGetValue(property, out var p) && Unescape(p.Value) is { Length: > 0 } text ? text : null;
        var title = Text("SUMMARY") ?? "(no title)";
        var status = Text("STATUS")?.ToUpperInvariant();
        var attendee = vevent.GetValueOrDefault("ATTENDEE");
        var headline = method switch
        {
            "CANCEL" => $"Meeting cancelled: {title}",
            "REPLY" => $"{Person(attendee.Parameters, attendee.Value) ?? "An attendee"} {Answer(attendee.Parameters)}: {title}",
            "COUNTER" => $"New time proposed: {title}",
            "REQUEST" => status == "CANCELLED" ? $"Meeting cancelled: {title}" : $"Meeting invitation: {title}",
            _ => status == "CANCELLED" ? $"Meeting cancelled: {title}" : $"Event: {title}",
        };

        var summary = new StringBuilder(headline).Append('\n');
        if (When(vevent) is { } when)
        {
            summary.Append("When: ").Append(when).Append('\n');
        }

        if (Text("LOCATION") is { } location)
        {
            summary.Append("Where: ").Append(location).Append('\n');
        }

        if (vevent.TryGetValue("ORGANIZER", out var organizer) && Person(organizer.Parameters, organizer.Value) is { } who)
        {
            summary.Append("Organizer: ").Append(who).Append('\n');
        }

        if (Text("DESCRIPTION") is { } description)
        {
            summary.Append('\n').Append(description.Trim()).Append('\n');
        }

        return summary.ToString().TrimEnd();
    }

    private static string? When(Dictionary<string, (string Parameters, string Value)> vevent)
    {
        if (!vevent.TryGetValue("DTSTART", out var start) || Moment(start.Value) is not { } from)
        {
            return null;
        }

        var zone = Parameter(start.Parameters, "TZID") is { } tzid ? $" ({tzid})" : start.Value.TrimEnd().EndsWith('Z') ? " (UTC)" : "";
        var to = vevent.TryGetValue("DTEND", out var end) ? Moment(end.Value) : null;
        var until = to is null ? "" : to.Value.Date == from.Date ? $"–{to.Value:HH:mm}" : $" – {to.Value:yyyy-MM-dd HH:mm}";
        return start.Value.Trim().Length == 8 ? $"{from:yyyy-MM-dd} (all day)" : $"{from:yyyy-MM-dd HH:mm}{until}{zone}";
    }

    private static DateTime? Moment(string value)
    {
        var text = value.Trim().TrimEnd('Z');
        return DateTime.TryParseExact(text, ["yyyyMMdd'T'HHmmss", "yyyyMMdd'T'HHmm", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var moment)
            ? moment
            : null;
    }

    private static string Answer(string parameters) => Parameter(parameters, "PARTSTAT")?.ToUpperInvariant() switch
    {
        "ACCEPTED" => "accepted",
        "DECLINED" => "declined",
        "TENTATIVE" => "tentatively accepted",
        "DELEGATED" => "delegated",
        _ => "replied to",
    };

    private static string? Person(string parameters, string value)
    {
        var address = value.Trim();
        address = address.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? address[7..] : address;
        var name = Parameter(parameters, "CN");
        return (name, address.Length > 0 ? address : null) switch
        {
            (null, null) => null,
            (null, { } only) => only,
            ({ } cn, null) => cn,
            ({ } cn, { } mail) => $"{cn} <{mail}>",
        };
    }

    private static string? Parameter(string parameters, string name)
    {
        foreach (var parameter in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parameter[..equals].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return parameter[(equals + 1)..].Trim().Trim('"') is { Length: > 0 } value ? value : null;
            }
        }

        return null;
    }

    /// <summary>NAME;PARAM=x;PARAM2="a:b":value — the colon that ends the name and parameters is the first one outside quotes.</summary>
    private static (string Name, string Parameters, string Value) Split(string line)
    {
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '"')
            {
                quoted = !quoted;
            }
            else if (line[i] == ':' && !quoted)
            {
                var head = line[..i];
                var semicolon = head.IndexOf(';', StringComparison.Ordinal);
                return semicolon < 0
                    ? (head.Trim().ToUpperInvariant(), "", line[(i + 1)..])
                    : (head[..semicolon].Trim().ToUpperInvariant(), head[(semicolon + 1)..], line[(i + 1)..]);
            }
        }

        return ("", "", "");
    }

    /// <summary>RFC 5545 3.1: a line that starts with a space or tab continues the one before.</summary>
    private static IEnumerable<string> Unfolded(string text)
    {
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                current.Append(line, 1, line.Length - 1);
                continue;
            }

            if (current.Length > 0)
            {
                yield return current.ToString();
            }

            current.Clear().Append(line);
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    /// <summary>RFC 5545 3.3.11 TEXT escapes: \n (or \N) is a line break, \, \; \\ the character itself.</summary>
    private static string Unescape(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
                text.Append(value[i] is 'n' or 'N' ? '\n' : value[i]);
            }
            else
            {
                text.Append(value[i]);
            }
        }

        return text.ToString().Trim();
    }
}
