namespace ProDesk.Web.Security;

/// <summary>
/// How a mail's HTML is shown to agents: already sanitized at ingestion (MailHtmlSanitizer), then
/// served as a document of its own into <c>&lt;iframe sandbox&gt;</c> under a policy that forbids
/// every script, so that a sanitizer gap still runs nothing and reaches neither the console's DOM
/// nor its cookies. The policy's own sandbox directive applies even if the URL is opened outside
/// the frame.
/// </summary>
public static partial class MailFrame
{
    /// <summary>
    /// The frame's sandbox: an opaque origin, no scripts, no forms. Popups are allowed (and escape
    /// the sandbox) so that a link in the mail, which the sanitizer sets to open a new tab, opens a
    /// normal page when the agent clicks it, as in any mail client.
    /// </summary>
    public const string Sandbox = "allow-popups allow-popups-to-escape-sandbox";

    /// <summary>
    /// Inline styles and the mail's own (data:) images: what mail needs to look right, and nothing that runs. Remote
    /// images wait until the agent asks (<see cref="PolicyWithRemoteImages"/>): a tracking pixel would tell the sender
    /// when, and from which address, the desk read the mail.
    /// </summary>
    public const string Policy = "default-src 'none'; img-src data: cid:; " + PolicyRest;

    /// <summary><see cref="Policy"/> with remote (https) images, once the agent chose to show them.</summary>
    public const string PolicyWithRemoteImages = "default-src 'none'; img-src https: data: cid:; " + PolicyRest;

    private const string PolicyRest = "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox " + Sandbox;

    /// <summary>Whether sanitized mail HTML refers to an image on the web (what <see cref="Policy"/> holds back).</summary>
    /// An image attribute (src, srcset, background, poster) or a CSS url(), however the serializer quoted it: inside a
    /// style attribute a quote is written <c>&amp;quot;</c>.
    public static bool HasRemoteImages(string sanitizedHtml) => RemoteImage().IsMatch(sanitizedHtml);

    [System.Text.RegularExpressions.GeneratedRegex(
        @"(?:\b(?:src|srcset|background|poster)\s*=\s*[""']?\s*|url\(\s*(?:&quot;|&#39;|&apos;|[""'])?\s*)(?:https?:)?//",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial System.Text.RegularExpressions.Regex RemoteImage();

    // Readable defaults for mail that brings no styles of its own; the frame does not inherit the console's stylesheet.
    private const string Head =
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">" +
        "<style>body{margin:.5rem;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1d2330;overflow-wrap:anywhere}" +
        "img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}</style></head><body dir=\"auto\">";

    private const string Tail = "</body></html>";

    /// <summary>The whole document around an already sanitized fragment.</summary>
    public static string Document(string sanitizedHtml) => string.Concat(Head, sanitizedHtml, Tail);

    public static void ApplyHeaders(IHeaderDictionary headers, bool remoteImages = false)
    {
        headers.ContentSecurityPolicy = remoteImages ? PolicyWithRemoteImages : Policy;
        // Only the console itself may frame it (frame-ancestors says the same to newer browsers).
        headers.XFrameOptions = "SAMEORIGIN";
        // Remote images in the mail must not learn the console's URL.
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "private, no-store";
    }
}
