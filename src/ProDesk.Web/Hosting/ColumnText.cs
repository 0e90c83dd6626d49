using System.Text;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Text written by senders, remote servers and users (subjects, names, addresses, comments, error
/// messages) is cut to its column when stored, never refused for its length: a 998-character subject is
/// a real mail. Neither a cut nor the input may leave half a character: a lone surrogate (half of an
/// emoji) is not text, and PostgreSQL's UTF-8 refuses it, which failed the whole save; one that arrives
/// becomes U+FFFD.
/// </summary>
public static class ColumnText
{
    public static string Fit(string value, int length) => Whole(value.Length <= length ? value : value[..CutAt(value, length)]);

    /// <summary>Cut to <paramref name="length"/> characters with "…" as the last one when anything was cut.</summary>
    public static string Shorten(string value, int length) =>
        value.Length <= length ? Whole(value) : Whole(string.Concat(value.AsSpan(0, CutAt(value, length - 1)), "…"));

    private static int CutAt(string value, int length) =>
        length > 0 && char.IsHighSurrogate(value[length - 1]) ? length - 1 : length;

    private static string Whole(string value)
    {
        if (!HasLoneSurrogate(value))
        {
            return value;
        }

        // EnumerateRunes yields U+FFFD for each lone surrogate.
        var builder = new StringBuilder(value.Length);
        foreach (var rune in value.EnumerateRunes())
        {
            builder.Append(rune.ToString());
        }

        return builder.ToString();
    }

    private static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
