using AngleSharp.Dom;
using Ganss.Xss;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The HtmlSanitizer configuration for email HTML shown to agents inside the console. Allow-lists
/// only: formatting tags, tables and images; no script, SVG, MathML, frames, objects, forms,
/// base, meta, link or style elements, no event handler attributes, no id/name/class (they would
/// clobber or restyle the console's own DOM), no positioning CSS (an overlay could fake the
/// console). URLs must be absolute http, https or mailto; img may also use cid: (inline parts,
/// see InlineImages) and data:image/png|jpeg|gif. A relative URL is dropped because it would
/// resolve against ProDesk itself and fire a request with the agent's cookies.
/// <para>
/// Remote images are kept (senders' logos are expected); they do reveal that the mail was opened,
/// so each img gets referrerpolicy="no-referrer" to at least not leak the console URL. Links open
/// in a new tab with rel="noopener noreferrer nofollow". The UI should still render the result in
/// a sandboxed frame under a CSP; this is the first wall, not the only one.
/// </para>
/// <para>
/// Configured once in the constructor and never changed afterwards: HtmlSanitizer documents
/// Sanitize as thread-safe on a shared instance under exactly that condition, so
/// <see cref="Instance"/> is shared by every request and job.
/// </para>
/// </summary>
public sealed partial class MailHtmlSanitizer
{
    private static readonly string[] Tags =
    [
        "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "big", "blockquote", "br", "caption",
        "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "dir", "div", "dl", "dt", "em",
        "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
        "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section",
        "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "time", "tr", "tt", "u", "ul", "var", "wbr",
    ];

    private static readonly string[] Attributes =
    [
        "abbr", "align", "alt", "axis", "background", "bgcolor", "border", "cellpadding", "cellspacing", "char",
        "charoff", "cite", "clear", "color", "cols", "colspan", "compact", "datetime", "dir", "face", "frame",
        "headers", "height", "href", "hreflang", "hspace", "lang", "noshade", "nowrap", "open", "reversed", "rows",
        "rowspan", "rules", "scope", "size", "span", "src", "start", "style", "summary", "title", "valign", "vspace",
        "width",
    ];

    private static readonly string[] UriAttributes = ["href", "src", "background", "cite"];

    private static readonly string[] Schemes = ["http", "https", "mailto", "tel", "sms", "cid", "data"];

    /// <summary>Positioning lets mail cover the console with a fake login; nothing in mail needs it.</summary>
    private static readonly string[] RemovedCssProperties = ["position", "z-index", "top", "right", "bottom", "left", "pointer-events"];

    /// <summary>
    /// Removed elements whose content goes with them: code, styles, embedded documents and form
    /// controls. Any other element that is not allowed (form, label, Outlook's o:p, a tag mangled
    /// by a broken mail client) is unwrapped instead, so one stray unclosed tag cannot swallow the
    /// rest of the message; what it wrapped is sanitized like everything else.
    /// </summary>
    private static readonly HashSet<string> DroppedWithContent = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "title", "head", "template", "noscript", "noembed", "noframes", "xmp", "plaintext",
        "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet", "canvas", "audio", "video",
        "select", "option", "optgroup", "datalist", "textarea", "input", "button", "map", "base", "meta", "link",
    };

    private static readonly string[] InlineImagePrefixes = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/jpg;base64,", "data:image/gif;base64,"];

    private readonly HtmlSanitizer sanitizer;

    public MailHtmlSanitizer()
    {
        sanitizer = new HtmlSanitizer { KeepChildNodes = false, AllowDataAttributes = false, AllowCssCustomProperties = false };
        Replace(sanitizer.AllowedTags, Tags);
        Replace(sanitizer.AllowedAttributes, Attributes);
        Replace(sanitizer.UriAttributes, UriAttributes);
        Replace(sanitizer.AllowedSchemes, Schemes);
        sanitizer.AllowedCssProperties.ExceptWith(RemovedCssProperties);
        sanitizer.AllowedClasses.Clear();
        sanitizer.RemovingTag += RemovingTag;
        sanitizer.FilterUrl += FilterUrl;
        sanitizer.PostProcessNode += PostProcessNode;
    }

    /// <summary>The shared, read-only configured instance.</summary>
    public static MailHtmlSanitizer Instance { get; } = new();

    /// <summary>
    /// The safe fragment for <paramref name="html"/> (a whole document is reduced to its body's content). A right-to-left
    /// direction set on the document's html or body element, which goes with them, is kept on a div around the content:
    /// an Arabic or Hebrew mail would otherwise read left to right, its punctuation on the wrong side.
    /// </summary>
    public string Sanitize(string html)
    {
        var safe = sanitizer.Sanitize(html);
        return RootDirectionOf(html) is { } direction && safe.Length > 0 ? $"<div dir=\"{direction}\">{safe}</div>" : safe;
    }

    private static string? RootDirectionOf(string html)
    {
        try
        {
            return RootDirection().Match(html) is { Success: true } root ? root.Groups[1].Value.ToLowerInvariant() : null;
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return null; // thousands of unclosed "<html" in a hostile mail: it reads left to right
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("""<(?:html|body)\b[^>]*?\sdir\s*=\s*["']?(rtl|auto)\b""",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial System.Text.RegularExpressions.Regex RootDirection();

    private static void Replace(ISet<string> set, string[] values)
    {
        set.Clear();
        set.UnionWith(values);
    }

    private static void RemovingTag(object? sender, RemovingTagEventArgs e)
    {
        if (DroppedWithContent.Contains(e.Tag.LocalName))
        {
            return;
        }

        e.Cancel = true;
        if (e.Tag.HasChildNodes)
        {
            e.Tag.Replace([.. e.Tag.ChildNodes]);
        }
        else
        {
            e.Tag.Remove();
        }
    }

    /// <summary>Runs after the scheme allow-list: narrows data: and cid: to images and drops every URL that is not absolute.</summary>
    private static void FilterUrl(object? sender, FilterUrlEventArgs e)
    {
        if (e.SanitizedUrl is not { } url)
        {
            return;
        }

        var isImage = e.Tag.LocalName == "img";
        e.SanitizedUrl = SchemeOf(url) switch
        {
            "http" or "https" or "mailto" => url,
            // A signature's phone number: a link an agent's softphone or phone app can call, never a page to load.
            "tel" or "sms" when e.Tag.LocalName == "a" => url,
            "cid" when isImage => url,
            "data" when isImage && IsInlineImage(url) => url,
            _ => null,
        };
    }

    private static void PostProcessNode(object? sender, PostProcessNodeEventArgs e)
    {
        if (e.Node is not IElement element)
        {
            return;
        }

        if (element.LocalName == "a" && element.HasAttribute("href"))
        {
            element.SetAttribute("target", "_blank");
            element.SetAttribute("rel", "noopener noreferrer nofollow");
        }
        else if (element.LocalName == "img" && element.HasAttribute("src"))
        {
            element.SetAttribute("referrerpolicy", "no-referrer");
        }
    }

    /// <summary>The lower-cased scheme of an absolute URL, or null for a relative (or protocol-relative) one.</summary>
    private static string? SchemeOf(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(url[0]))
        {
            return null;
        }

        for (var i = 1; i < colon; i++)
        {
            if (!char.IsAsciiLetterOrDigit(url[i]) && url[i] is not ('+' or '-' or '.'))
            {
                return null;
            }
        }

        return url[..colon].ToLowerInvariant();
    }

    private static bool IsInlineImage(string url)
    {
        var prefix = InlineImagePrefixes.FirstOrDefault(p => url.StartsWith(p, StringComparison.OrdinalIgnoreCase));
        if (prefix is null)
        {
            return false;
        }

        for (var i = prefix.Length; i < url.Length; i++)
        {
            var c = url[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '/' or '=' or ' ' or '\n' or '\r' or '\t'))
            {
                return false;
            }
        }

        return true;
    }
}
