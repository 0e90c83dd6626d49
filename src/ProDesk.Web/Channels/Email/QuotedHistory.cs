using System.Text.RegularExpressions;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Where the earlier thread a reply quotes begins in a plain-text mail: each customer reply repeats everything before
/// it, and an agent reading the item sees the thread already. The quoted tail is folded away on the item page, never
/// dropped. Only a tail is folded (answers written between quoted lines stay as they are), and only under text of the
/// sender's own.
/// </summary>
public static partial class QuotedHistory
{
    /// <summary>The sender's own text, and the quoted history after it (null when none was found).</summary>
    public static (string Fresh, string? Quoted) Split(string body)
    {
        if (body.Length == 0)
        {
            return (body, null);
        }

        var lines = body.Split('\n');
        var start = FirstHistoryLine(lines);
        if (start <= 0 || !lines[..start].Any(line => !string.IsNullOrWhiteSpace(line) && !line.TrimStart().StartsWith('>')))
        {
            return (body, null);
        }

        var offset = lines[..start].Sum(line => line.Length + 1);
        return (body[..offset].TrimEnd(), body[offset..]);
    }

    private const int MaxMarkerLength = 400;

    private static int FirstHistoryLine(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length > MaxMarkerLength)
            {
                continue; // a paragraph, not a marker; and the patterns never see a long line
            }

            if (Separator().IsMatch(line) || Attribution().IsMatch(line)
                || (i + 1 < lines.Length && !line.EndsWith(':') && lines[i + 1].Length <= MaxMarkerLength && Attribution().IsMatch($"{line} {lines[i + 1].Trim()}")))
            {
                return i;
            }

            // Outlook's header block: From: then Sent: or Date: within the next lines.
            if (HeaderFrom().IsMatch(line) && lines.Skip(i + 1).Take(4).Any(next => HeaderSent().IsMatch(next.Trim())))
            {
                return i > 0 && lines[i - 1].Trim().StartsWith("____", StringComparison.Ordinal) ? i - 1 : i;
            }
        }

        return QuotedTail(lines);
    }

    /// <summary>The first line of a run of "&gt;" lines (blank lines allowed) that reaches the end; -1 when the text does not end so.</summary>
    private static int QuotedTail(string[] lines)
    {
        var start = -1;
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('>'))
            {
                start = i;
            }
            else if (line.Length > 0)
            {
                break;
            }
        }

        return start;
    }

    [GeneratedRegex(@"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Oorspronkelijk bericht|Messaggio originale|Forwarded message|Message transféré)\s*-{2,}$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Separator();

    // Gmail, Apple Mail, Thunderbird: "On Tue, 3 Jun 2025 at 09:15, Carol <c@x> wrote:" and its translations.
    [GeneratedRegex(@"^(On\s.{1,250}\swrote|Am\s.{1,250}\sschrieb\s.{0,250}|Le\s.{1,250}\sa\s+écrit\s?|El\s.{1,250}\sescribió|Op\s.{1,250}\sschreef\s.{0,250}|Il\s.{1,250}\sha\s+scritto)\s?:$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Attribution();

    [GeneratedRegex(@"^\*?(From|Von|De|Van|Da)\s?:\*?\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderFrom();

    [GeneratedRegex(@"^\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato)\s?:\*?\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderSent();
}
