using System.Text;

namespace ProDesk.Web.Channels;

/// <summary>
/// Text people type into a channel (a web form, an SMS, a chat), as stored: no control characters that a
/// terminal or a log would act on (ESC, BEL) and no NUL, which PostgreSQL text cannot hold. Line breaks
/// become <c>\n</c>; a single-line field gets spaces for them, so "Hello\r\nBcc: x" reads "Hello Bcc: x".
/// </summary>
public static class PlainText
{
    /// <summary>A message body: lines kept (<c>\n</c>), tabs kept, other control characters dropped, trimmed.</summary>
    public static string Body(string? value) => Clean(value, multiLine: true);

    /// <summary>A one-line field (a name, a subject, an address): line breaks (U+2028/9 too) and tabs become spaces, other control characters, bidi controls and invisible spaces are dropped, trimmed.</summary>
    public static string Line(string? value) => Clean(value, multiLine: false);

    /// <summary>
    /// The bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): in a name or a subject
    /// they turn what follows around ("Support\u202Emoc.evil" reads as something else), and a one-line field has no
    /// right-to-left paragraph of its own that would need them. Bodies keep them.
    /// </summary>
    private const string Bidi = "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069";

    private static readonly System.Buffers.SearchValues<char> BidiControls = System.Buffers.SearchValues.Create(Bidi);

    /// <summary>
    /// Invisible characters a one-line field has no use for: the zero-width space, the word joiner and a byte order mark.
    /// In a name they pass for nothing ("Alex Martin\u200B (agent)" looks like a colleague; probe round 17). The
    /// zero-width joiners stay: emoji sequences and Persian or Indic names need them.
    /// </summary>
    private const string Invisible = "\u200B\u2060\uFEFF";

    private static readonly System.Buffers.SearchValues<char> InvisibleInALine = System.Buffers.SearchValues.Create(Invisible);

    /// <summary>What a one-line field does not keep as it is: bidi controls, invisible characters, and the Unicode line and paragraph separators.</summary>
    private static readonly System.Buffers.SearchValues<char> NotInALine = System.Buffers.SearchValues.Create(Bidi + Invisible + "\u2028\u2029");

    /// <summary>
    /// Nothing a reader would see: only spaces and invisible format characters (zero-width space and joiners, the word
    /// joiner, a byte order mark). Such a "message" would be an item with an invisible subject no agent can click.
    /// </summary>
    public static bool IsBlank(string value) =>
        value.All(c => char.IsWhiteSpace(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);

    /// <summary>Whether <paramref name="c"/> is one of the bidi controls a one-line field drops (mail headers too: MailText).</summary>
    internal static bool IsBidiControl(char c) => BidiControls.Contains(c);

    private static string Clean(string? value, bool multiLine)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (!value.AsSpan().ContainsAnyInRange('\0', '\u001f') && !value.AsSpan().ContainsAnyInRange('\u007f', '\u009f')
            && (multiLine || !value.AsSpan().ContainsAny(NotInALine)))
        {
            return value.Trim();
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\r')
            {
                // \r\n and a lone \r are both one line break.
                if (i + 1 < value.Length && value[i + 1] == '\n')
                {
                    i++;
                }

                text.Append(multiLine ? '\n' : ' ');
            }
            else if (c is '\n' or '\t' or '\v' or '\f' || (!multiLine && c is '\u2028' or '\u2029'))
            {
                text.Append(multiLine && c is '\n' or '\t' ? c : ' ');
            }
            else if (!char.IsControl(c) && (multiLine || (!IsBidiControl(c) && !InvisibleInALine.Contains(c))))
            {
                text.Append(c);
            }
        }

        return text.ToString().Trim();
    }
}
