using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Hosting;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Pictures a mail's HTML shows from its own parts (<c>&lt;img src="cid:..."&gt;</c>, RFC 2392): signatures,
/// logos, pasted screenshots. At ingestion a reference to one of the mail's parts is rewritten to
/// <c>cid:</c> + the stored attachment's id, so the reference survives without keeping the Content-ID. When an agent opens the mail, the frame's
/// document carries those pictures as <c>data:</c> URLs: the sandboxed frame has an opaque origin and
/// sends no cookies, so it could not fetch them from the attachment route.
/// </summary>
public static partial class InlineImages
{
    /// <summary>A picture larger than this stays a download (a pasted 4K screenshot is about 3 MB as PNG).</summary>
    private const long MaxPictureBytes = 5 * 1024 * 1024;

    /// <summary>
    /// All pictures of one frame together, counted at every place one is shown: a mail that shows one large
    /// picture a thousand times cannot make a frame of gigabytes. Past it, a picture stays a broken image.
    /// </summary>
    private const long MaxTotalBytes = 20 * 1024 * 1024;

    /// <summary>
    /// The sanitizer keeps cid: only on img src, and writes attributes double-quoted with &amp; and &quot; escaped.
    /// Only inside an img tag: a text node may read src="cid:..." too (the serializer leaves its quotes), but never holds a raw "&lt;".
    /// </summary>
    /// URL schemes are case-insensitive (RFC 3986): "CID:" is a cid: URL too.
    [GeneratedRegex("(<img\\s[^<>]*?)src=\"(?i:cid):([^\"]{1,1000})\"", RegexOptions.CultureInvariant)]
    private static partial Regex CidSource();

    /// <summary>A reference <see cref="Link"/> wrote: the attachment's id.</summary>
    [GeneratedRegex("(<img\\s[^<>]*?)src=\"cid:([0-9a-f]{32})\"", RegexOptions.CultureInvariant)]
    private static partial Regex StoredSource();

    /// <summary>
    /// The sanitized HTML with each <c>cid:</c> that names one of <paramref name="parts"/> pointing at the attachment
    /// it was stored as (<paramref name="stored"/>, in the same order); other references are left as they are.
    /// </summary>
    public static string? Link(string? html, IReadOnlyList<ParsedAttachment> parts, IReadOnlyList<InboundAttachment> stored)
    {
        if (html is null || !html.Contains("cid:", StringComparison.OrdinalIgnoreCase))
        {
            return html;
        }

        var byContentId = new Dictionary<string, Guid>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < parts.Count && i < stored.Count; i++)
        {
            if (parts[i].ContentId is { } contentId)
            {
                byContentId.TryAdd(contentId, stored[i].BlobId);
            }
        }

        return byContentId.Count == 0
            ? html
            : CidSource().Replace(html, match => byContentId.TryGetValue(ContentIdOf(match.Groups[2].Value), out var id) ? $"{match.Groups[1].Value}src=\"cid:{id:N}\"" : match.Value);
    }

    /// <summary>
    /// <paramref name="html"/> with each picture linked at ingestion inlined as a data: URL, when it is an attachment of
    /// that very message and its bytes are a PNG, JPEG, GIF or WebP picture (by their signature, not the sender's word).
    /// </summary>
    public static async Task<string> InlineAsync(string html, Guid itemId, Guid messageId, ProDeskDbContext db, ProDeskPaths paths, CancellationToken cancellationToken)
    {
        var ids = StoredSource().Matches(html).Select(m => Guid.ParseExact(m.Groups[2].Value, "N")).Distinct().ToList();
        if (ids.Count == 0)
        {
            return html;
        }

        var files = await db.WorkItemAttachments.AsNoTracking()
            .Where(a => ids.Contains(a.Id) && a.WorkItemId == itemId && a.WorkItemMessageId == messageId && a.Length <= MaxPictureBytes)
            .Select(a => new { a.Id, a.TenantId, a.Length })
            .ToListAsync(cancellationToken);
        var pictures = new Dictionary<Guid, (string Url, long Length)>();
        long read = 0;
        foreach (var file in files.OrderBy(f => f.Length))
        {
            var path = Attachments.BlobPath(paths, file.TenantId, file.Id);
            if ((read += file.Length) > MaxTotalBytes || !File.Exists(path))
            {
                continue;
            }

            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            if (PictureType(bytes) is { } type)
            {
                pictures[file.Id] = ($"data:{type};base64,{Convert.ToBase64String(bytes)}", bytes.Length);
            }
        }

        if (pictures.Count == 0)
        {
            return html;
        }

        long shown = 0;
        return StoredSource().Replace(html, match =>
        {
            if (!pictures.TryGetValue(Guid.ParseExact(match.Groups[2].Value, "N"), out var picture) || (shown += picture.Length) > MaxTotalBytes)
            {
                return match.Value;
            }

            return $"{match.Groups[1].Value}src=\"{picture.Url}\"";
        });
    }

    /// <summary>A cid: URL's Content-ID: the attribute's HTML escapes undone, then its %-escapes (RFC 2392).</summary>
    private static string ContentIdOf(string attribute)
    {
        var value = WebUtility.HtmlDecode(attribute);
        try
        {
            return Uri.UnescapeDataString(value).Trim('<', '>');
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    private static string? PictureType(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        _ => null,
    };
}
