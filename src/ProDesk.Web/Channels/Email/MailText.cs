using System.Text;

namespace ProDesk.Web.Channels.Email;

/// <summary>Cleaning rules for text that came out of a message, shared by headers and bodies.</summary>
internal static class MailText
{
    // U+0080..U+009F are never text in mail: they are windows-1252 bytes (€, curly quotes, dashes) that a decoder read
    // as Latin-1, because Outlook labels windows-1252 text and encoded words iso-8859-1. Read as windows-1252 instead,
    // as the WHATWG encoding standard reads that label; the five bytes it leaves undefined stay control characters and go.
    private static readonly string C1AsWindows1252 = EmailParser.UnlabeledFallback.GetString([.. Enumerable.Range(0x80, 32).Select(b => (byte)b)]);

    private static char Text(char c) => c is >= '\u0080' and <= '\u009f' ? C1AsWindows1252[c - 0x80] : c;

    /// <summary>
    /// One line of display text: every control character (CR, LF and NUL smuggled in through an
    /// encoded word included) and every run of whitespace becomes one space, bidi overrides and
    /// lone surrogates go; trimmed and cut.
    /// </summary>
    public static string Line(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var text = new StringBuilder(Math.Min(value.Length, maxLength + 16));
        var pendingSpace = false;
        for (var i = 0; i < value.Length && text.Length < maxLength; i++)
        {
            var c = Text(value[i]);
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                pendingSpace = text.Length > 0;
                continue;
            }

            if (PlainText.IsBidiControl(c))
            {
                // Bidi overrides and isolates make "moc.evil@admin" read as something else; drop them.
                continue;
            }

            if (char.IsLowSurrogate(c))
            {
                // A lone low surrogate cannot be stored as UTF-8; pairs are taken whole below.
                continue;
            }

            var pair = char.IsHighSurrogate(c);
            if (pair && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])))
            {
                continue;
            }

            if (pendingSpace)
            {
                text.Append(' ');
                pendingSpace = false;
            }

            text.Append(c);
            if (pair)
            {
                text.Append(value[++i]);
            }
        }

        return SafeFileName.CutAt(text.ToString(), maxLength);
    }

    /// <summary>
    /// A body: line breaks become \n, tabs stay, every other control character (NUL above all,
    /// which PostgreSQL text refuses) goes; cut at <paramref name="maxLength"/>.
    /// </summary>
    public static string Body(string? value, int maxLength) => Body(value, maxLength, markCut: false);

    private const char ObjectReplacement = '\uFFFC';

    /// <summary>What ends a body cut at its limit, so nobody takes the cut for the sender's last word.</summary>
    public const string CutMarker = "\n\n[ProDesk: the message is longer than can be shown here; the rest is cut off.]";

    /// <param name="markCut">End a body that was cut with <see cref="CutMarker"/> (within <paramref name="maxLength"/>).</param>
    public static string Body(string? value, int maxLength, bool markCut)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var text = new StringBuilder(Math.Min(value.Length, maxLength));
        var i = 0;
        for (; i < value.Length && text.Length < maxLength; i++)
        {
            var c = Text(value[i]);
            if (c == '\r')
            {
                text.Append('\n');
                if (i + 1 < value.Length && value[i + 1] == '\n')
                {
                    i++;
                }

                continue;
            }

            // U+FFFC is where Apple Mail's text had a picture (the picture is attached): a box to a reader, not text.
            if ((c is '\n' or '\t' || !char.IsControl(c)) && c != ObjectReplacement)
            {
                text.Append(c);
            }
        }

        return markCut && i < value.Length ? MarkCut(text.ToString(), maxLength) : SafeFileName.CutAt(text.ToString(), maxLength);
    }

    /// <summary><paramref name="text"/>, cut so that it ends with <see cref="CutMarker"/> within <paramref name="maxLength"/>.</summary>
    public static string MarkCut(string text, int maxLength) =>
        SafeFileName.CutAt(text, Math.Max(0, maxLength - CutMarker.Length)).TrimEnd() + CutMarker;
}
