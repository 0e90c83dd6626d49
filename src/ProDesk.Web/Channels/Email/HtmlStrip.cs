using System.Text;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// HTML read in one forward pass, without a DOM: whether it shows any text at all, and its text for a page too large to
/// parse (<see cref="HtmlText"/> builds a DOM, which a 6,000-row ERP report must not cost). Tags are skipped, the
/// contents of style, script, head and title and comments too, entities decoded, and block ends become line breaks.
/// Every search moves forward, and one for a closing tag that never comes is not repeated, so the pass stays linear.
/// </summary>
internal static class HtmlStrip
{
    /// <summary>Elements whose content is never shown.</summary>
    private static readonly string[] Hidden = ["style", "script", "head", "title", "xml", "template", "noscript"];

    private static readonly HashSet<string> LineEnds = new(StringComparer.OrdinalIgnoreCase)
    {
        "br", "p", "div", "tr", "li", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ul", "ol", "dl", "dt", "dd",
        "section", "article", "header", "footer", "center", "address", "caption",
    };

    private static readonly HashSet<string> Cells = new(StringComparer.OrdinalIgnoreCase) { "td", "th" };

    /// <summary>
    /// Whether the HTML shows any text or picture: Outlook's empty skeleton (&lt;p class=MsoNormal&gt;&lt;o:p&gt;&amp;nbsp;&lt;/o:p&gt;&lt;/p&gt;)
    /// shows nothing and is no body. Stops at the first visible character, so a real body costs a few dozen characters.
    /// </summary>
    public static bool HasVisibleText(string html) => Scan(html, null, 0);

    /// <summary>The text of <paramref name="html"/>, up to about <paramref name="maxLength"/> characters.</summary>
    public static string ToText(string html, int maxLength)
    {
        var text = new StringBuilder(Math.Min(html.Length, maxLength + 1));
        Scan(html, text, maxLength + 1);
        return text.ToString().Trim();
    }

    /// <returns>With no <paramref name="text"/>: whether anything visible comes. With it: whether the text filled <paramref name="max"/>.</returns>
    private static bool Scan(string html, StringBuilder? text, int max)
    {
        Span<bool> unclosed = stackalloc bool[Hidden.Length];
        var space = false;
        for (var at = 0; at < html.Length;)
        {
            if (text is not null && text.Length >= max)
            {
                return true;
            }

            var c = html[at];
            if (c == '<')
            {
                at = Tag(html, at, text, unclosed, out var visible);
                if (visible && text is null)
                {
                    return true;
                }

                space = false;
                continue;
            }

            var shown = c;
            var next = at + 1;
            if (c == '&' && html.IndexOf(';', at, Math.Min(12, html.Length - at)) is > 0 and var end)
            {
                var decoded = System.Net.WebUtility.HtmlDecode(html[at..(end + 1)]);
                if (decoded.Length == 1 || (decoded.Length == 2 && char.IsHighSurrogate(decoded[0])))
                {
                    shown = decoded[0];
                    next = end + 1;
                    if (decoded.Length == 2 && !Blank(shown))
                    {
                        if (text is null)
                        {
                            return true;
                        }

                        AppendSpace(text, ref space);
                        text.Append(decoded);
                        at = next;
                        continue;
                    }
                }
            }

            at = next;
            if (Blank(shown))
            {
                space = true;
                continue;
            }

            if (text is null)
            {
                return true;
            }

            AppendSpace(text, ref space);
            text.Append(shown);
        }

        return false;
    }

    private static void AppendSpace(StringBuilder text, ref bool space)
    {
        if (space && text.Length > 0 && text[^1] is not ('\n' or '\t' or ' '))
        {
            text.Append(' ');
        }

        space = false;
    }

    /// <summary>White space, no-break space and the zero-width characters mailers pad empty paragraphs with.</summary>
    private static bool Blank(char c) => char.IsWhiteSpace(c) || c is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD';

    /// <summary>Skips the tag (or comment, or hidden element) at <paramref name="at"/>; returns where the text goes on.</summary>
    private static int Tag(string html, int at, StringBuilder? text, Span<bool> unclosed, out bool visible)
    {
        visible = false;
        if (string.CompareOrdinal(html, at, "<!--", 0, 4) == 0)
        {
            var endComment = html.IndexOf("-->", at + 4, StringComparison.Ordinal);
            return endComment < 0 ? html.Length : endComment + 3;
        }

        var close = html.IndexOf('>', at + 1);
        var end = close < 0 ? html.Length : close + 1;
        var nameStart = at + 1 + (at + 1 < html.Length && html[at + 1] == '/' ? 1 : 0);
        var nameEnd = nameStart;
        while (nameEnd < html.Length && nameEnd < end && (char.IsAsciiLetterOrDigit(html[nameEnd]) || html[nameEnd] is ':' or '-'))
        {
            nameEnd++;
        }

        if (nameEnd == nameStart)
        {
            // "a < b" is text, not a tag.
            if (nameStart == at + 1 && (at + 1 >= html.Length || html[at + 1] is not ('!' or '?')))
            {
                visible = true;
                text?.Append('<');
                return at + 1;
            }

            return end;
        }

        var name = html.AsSpan(nameStart, nameEnd - nameStart);
        var closing = nameStart != at + 1;
        if (name.Equals("img", StringComparison.OrdinalIgnoreCase))
        {
            visible = true;
            return end;
        }

        if (!closing)
        {
            for (var i = 0; i < Hidden.Length; i++)
            {
                if (!unclosed[i] && name.Equals(Hidden[i], StringComparison.OrdinalIgnoreCase))
                {
                    var endTag = html.IndexOf("</" + Hidden[i], end, StringComparison.OrdinalIgnoreCase);
                    if (endTag < 0)
                    {
                        unclosed[i] = true; // never looked for again: many unclosed tags must not make the pass quadratic
                        return end;
                    }

                    var after = html.IndexOf('>', endTag);
                    return after < 0 ? html.Length : after + 1;
                }
            }
        }

        if (text is not null && text.Length > 0)
        {
            var nameText = name.ToString();
            if (LineEnds.Contains(nameText))
            {
                while (text.Length > 0 && text[^1] is ' ' or '\t')
                {
                    text.Length--;
                }

                // A block starts a line (a table's rows stay one to a line); only <br> makes blank lines, two at most.
                var br = name.Equals("br", StringComparison.OrdinalIgnoreCase);
                if (text.Length > 0 && (br ? !(text.Length >= 2 && text[^1] == '\n' && text[^2] == '\n') : text[^1] != '\n'))
                {
                    text.Append('\n');
                }
            }
            else if (closing && Cells.Contains(nameText) && text[^1] is not ('\n' or '\t'))
            {
                text.Append('\t');
            }
        }

        return end;
    }
}
