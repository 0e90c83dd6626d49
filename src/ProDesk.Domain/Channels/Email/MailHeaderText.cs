using System.Text;

namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// The small slice of RFC 5322 structured-field syntax the email rules need: unfolding, dropping
/// comments, and reading the leading token before any parameters.
/// </summary>
internal static class MailHeaderText
{
    /// <summary>
    /// The value with folding whitespace collapsed and <c>(comments)</c> removed (nested and with
    /// quoted-pairs), trimmed. An unclosed comment runs to the end, as a lenient parser must
    /// accept what broken mailers send rather than throw.
    /// </summary>
    public static string WithoutComments(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var text = new StringBuilder(value.Length);
        var depth = 0;
        var inQuotes = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '\r' or '\n' or '\t')
            {
                c = ' ';
            }

            if (c == '\\' && (depth > 0 || inQuotes) && i + 1 < value.Length)
            {
                // A quoted-pair: the next character is literal, even a parenthesis.
                if (depth == 0)
                {
                    text.Append(value[i + 1]);
                }

                i++;
                continue;
            }

            if (depth == 0 && c == '"')
            {
                inQuotes = !inQuotes;
                text.Append(c);
            }
            else if (!inQuotes && c == '(')
            {
                depth++;
            }
            else if (!inQuotes && c == ')' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                text.Append(c);
            }
        }

        return text.ToString().Trim();
    }

    /// <summary>
    /// The first token of a structured value: comments dropped, cut at the first <c>;</c> (where
    /// parameters start, as in <c>auto-replied; owner-email="x@y"</c>) and at whitespace.
    /// </summary>
    public static string FirstToken(string? value)
    {
        var clean = WithoutComments(value);
        var end = clean.AsSpan().IndexOfAny(';', ' ');
        return (end < 0 ? clean : clean[..end]).Trim();
    }

    /// <summary>
    /// The address inside <c>Name &lt;addr&gt;</c>, or the whole (trimmed) text when there are no
    /// angle brackets. Comments are dropped first, so <c>x@y (Support)</c> gives <c>x@y</c>.
    /// </summary>
    public static string BareAddress(string? value)
    {
        var clean = WithoutComments(value);
        var open = clean.LastIndexOf('<');
        if (open >= 0)
        {
            var close = clean.IndexOf('>', open + 1);
            return (close < 0 ? clean[(open + 1)..] : clean[(open + 1)..close]).Trim();
        }

        return clean;
    }
}
