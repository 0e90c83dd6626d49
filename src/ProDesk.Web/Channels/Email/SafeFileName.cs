using System.Globalization;
using System.Text;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Turns a file name chosen by a stranger into one that is safe to show, to put in a
/// Content-Disposition and to hand to a browser's "save as": no directory part, no control or
/// bidi characters (U+202E makes "fdp.exe" read as "exe.pdf"), none of the characters Windows
/// refuses, no leading dot (hidden files, ".." components), no device names (CON, NUL, LPT1...),
/// and a bounded length that keeps the extension.
/// </summary>
public static class SafeFileName
{
    public const int MaxLength = 150;

    /// <summary>An extension longer than this is not one worth keeping when the name is cut.</summary>
    private const int MaxExtensionLength = 16;

    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
    };

    /// <summary>The safe form of <paramref name="name"/>, or <paramref name="fallback"/> when nothing usable is left.</summary>
    public static string From(string? name, string fallback)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return fallback;
        }

        var clean = WithoutInvisibles(name).Normalize(NormalizationForm.FormC);

        // Only the last path segment is a file name; both separators, whatever the sender's OS.
        clean = clean[(clean.LastIndexOfAny(['/', '\\']) + 1)..];

        var text = new StringBuilder(clean.Length);
        var pendingSpace = false;
        foreach (var c in clean)
        {
            if (c is '<' or '>' or ':' or '"' or '|' or '?' or '*')
            {
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                pendingSpace = text.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                text.Append(' ');
                pendingSpace = false;
            }

            text.Append(c);
        }

        // Leading dots hide the file or walk up a directory; trailing dots and spaces are dropped by Windows, which would change the extension.
        var kept = text.ToString().TrimEnd('.', ' ');
        var result = kept.TrimStart('.', ' ');
        if (result.Length == 0)
        {
            return fallback;
        }

        if (result.Length < kept.Length && !result.Contains('.', StringComparison.Ordinal) && result.Length <= MaxExtensionLength
            && MimeKit.MimeTypes.GetMimeType("x." + result) != "application/octet-stream")
        {
            // ".pdf" or "..pdf": a known extension without a name stays the extension, of the fallback's name, so the file
            // still opens in its program (".htaccess" is a name, and stays "htaccess").
            var fallbackDot = fallback.LastIndexOf('.');
            result = $"{(fallbackDot > 0 ? fallback[..fallbackDot] : fallback)}.{result}";
        }

        var dot = result.IndexOf('.', StringComparison.Ordinal);
        var stem = (dot < 0 ? result : result[..dot]).TrimEnd(' ');
        if (DeviceNames.Contains(stem))
        {
            result = "_" + result;
        }

        return Cap(result);
    }

    private static string Cap(string name)
    {
        if (name.Length <= MaxLength)
        {
            return name;
        }

        var dot = name.LastIndexOf('.');
        var extension = dot > 0 && name.Length - dot <= MaxExtensionLength ? name[dot..] : "";
        var stem = CutAt(name[..(name.Length - extension.Length)], MaxLength - extension.Length).TrimEnd('.', ' ');
        return stem + extension;
    }

    /// <summary>At most <paramref name="length"/> characters, never splitting a surrogate pair.</summary>
    internal static string CutAt(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        if (length > 0 && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return text[..length];
    }

    /// <summary>Drops control and format characters (bidi overrides, zero-width joiners) and lone surrogates, which also makes Normalize safe to call.</summary>
    private static string WithoutInvisibles(string name)
    {
        var text = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                if (CharUnicodeInfo.GetUnicodeCategory(name, i) is not (UnicodeCategory.Format or UnicodeCategory.PrivateUse))
                {
                    text.Append(c).Append(name[i + 1]);
                }

                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                continue;
            }

            if (char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                continue;
            }

            text.Append(c);
        }

        return text.ToString();
    }
}
