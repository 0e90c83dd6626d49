using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Domain.WorkItems;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Files on items. Bytes live under the data directory at blobs/{tenant}/{attachment id}: the
/// uploaded name is display text only and never touches a path. Downloads are always
/// <c>Content-Disposition: attachment</c> with <c>nosniff</c>, and only harmless types keep theirs.
/// </summary>
public static class Attachments
{
    public sealed record AttachmentView(Guid Id, string FileName, string ContentType, long Length, DateTime CreatedAt);

    private static readonly HashSet<string> InlineSafeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
    };

    public static void MapAttachments(this RouteGroupBuilder tenant)
    {
        tenant.MapPost("/work-items/{id:guid}/attachments", UploadAsync).RequireAuthorization(WorkItemsApi.WritersPolicy).DisableAntiforgery().WithVersionCheck()
            .WithName("UploadAttachment").WithSummary("Attaches one file (multipart field `file`), size-limited. With If-Match (the ETag of the item's GET), refused with 412 and the new state when the item changed since.");
        // HEAD and Range too: a browser or client resumes a large download where it broke off.
        tenant.MapMethods("/work-items/{id:guid}/attachments/{attachmentId:guid}", [HttpMethods.Get, HttpMethods.Head], DownloadAsync).AsFileDownload()
            .WithName("DownloadAttachment").WithSummary("The file, always as a download (Range requests resume it).");
    }

    private static async Task<Results<Created<AttachmentView>, NotFound, ValidationProblem, ProblemHttpResult>> UploadAsync(
        Guid id, HttpRequest request, ProDeskDbContext db, ProDeskPaths paths, IConfiguration configuration, ClaimsPrincipal user, TimeProvider clock,
        OutboxRelay relay, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (item is null)
        {
            return TypedResults.NotFound();
        }

        if (item.Status == WorkItemStatus.Closed)
        {
            return WorkItemsApi.IsClosed(item.Summary(await WorkItemsApi.QueueKeyAsync(db, item.QueueId, cancellationToken)));
        }

        // A multipart body has no `version`: If-Match (the ETag of the item's GET) is the way to name one.
        if (VersionPrecondition.Read(request, null, out var basedOn) is { } badVersion)
        {
            return badVersion;
        }

        if (basedOn.Version is { } seen && seen != item.Version)
        {
            return WorkItemsApi.Stale(item.Summary(await WorkItemsApi.QueueKeyAsync(db, item.QueueId, cancellationToken)), basedOn.StaleStatus);
        }

        var max = configuration.GetValue("Attachments:MaxBytes", 25L * 1024 * 1024);
        ProblemHttpResult TooLarge() => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "File too large", detail: $"file: at most {max} bytes");
        if (request.ContentLength > max + 64 * 1024)
        {
            return TooLarge();
        }

        IFormCollection? form = null;
        try
        {
            form = request.HasFormContentType ? await request.ReadFormAsync(cancellationToken) : null;
        }
        catch (Exception e) when (RequestForms.IsTooLarge(e))
        {
            return TooLarge();
        }
        catch (Exception e) when (RequestForms.IsMalformed(e, request.HttpContext))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["the multipart body is malformed (cut short, or its boundary is not the one its Content-Type names)"] });
        }

        if (form?.Files.Count > 1)
        {
            // The second would be dropped without a word.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = [$"send one file per request ({form.Files.Count} were sent)"] });
        }

        if (form?.Files.GetFile("file") is not { } file)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["send one file as multipart/form-data field 'file'"] });
        }

        if (file.Length == 0 || file.Length > max)
        {
            return file.Length == 0
                ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["is empty"] })
                : TooLarge();
        }

        var attachment = new WorkItemAttachment
        {
            Id = Guid.CreateVersion7(),
            WorkItemId = item.Id,
            TenantId = item.TenantId,
            FileName = SafeFileName.From(file.FileName, "attachment"),
            ContentType = MediaType(file.ContentType),
            Length = file.Length,
            Sha256 = [],
            UploadedBy = Guid.TryParse(user.FindFirstValue(ProDeskClaims.Subject), out var uploader) ? uploader : null,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };

        await using (var input = file.OpenReadStream())
        {
            (_, attachment.Sha256) = await WriteBlobAsync(paths, item.TenantId, attachment.Id, input, cancellationToken);
        }

        try
        {
            // The file is whole on disk: the row follows even if the uploader has gone meanwhile.
            if (!await RecordAsync(db, item, attachment, basedOn.Version, user, CancellationToken.None))
            {
                DeleteBlobs(paths, item.TenantId, [attachment.Id]);
                var now = await db.WorkItems.AsNoTracking().FirstAsync(w => w.Id == item.Id, cancellationToken);
                var summary = now.Summary(await WorkItemsApi.QueueKeyAsync(db, item.QueueId, cancellationToken));
                return now.Status == WorkItemStatus.Closed ? WorkItemsApi.IsClosed(summary) : WorkItemsApi.Stale(summary, basedOn.StaleStatus);
            }
        }
        catch
        {
            DeleteBlobs(paths, item.TenantId, [attachment.Id]);
            throw;
        }

        relay.Wake();
        return TypedResults.Created($"{request.Path}/{attachment.Id}", View(attachment));
    }

    /// <summary>
    /// The file's row, a trail entry and a new version of the item in one transaction, so an agent who loaded the item
    /// before the file came is asked to look again before replying (the stale-reply guard), and consoles hear of it.
    /// False when the item was closed meanwhile, or is no longer at <paramref name="basedOnVersion"/> when one is named.
    /// </summary>
    private static async Task<bool> RecordAsync(ProDeskDbContext db, WorkItem item, WorkItemAttachment attachment, int? basedOnVersion, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = attachment.CreatedAt;
        // Counted up in the database: an upload that names no version never loses to a colleague's change made meanwhile.
        if (await db.WorkItems.Where(w => w.Id == item.Id && w.Status != WorkItemStatus.Closed && (basedOnVersion == null || w.Version == basedOnVersion))
                .ExecuteUpdateAsync(s => s.SetProperty(w => w.Version, w => w.Version + 1).SetProperty(w => w.UpdatedAt, now), cancellationToken) == 0)
        {
            return false;
        }

        var current = await db.WorkItems.AsNoTracking().Where(w => w.Id == item.Id).Select(w => new { w.Version, w.Status }).FirstAsync(cancellationToken);
        db.WorkItemAttachments.Add(attachment);
        WorkItemTrail.Changed(db, item.Id, item.TenantId, now, attachment.UploadedBy,
            user.FindFirstValue(ProDeskClaims.Email) ?? user.FindFirstValue(ProDeskClaims.Subject), TrailField, null, attachment.FileName);
        WorkItemTrail.Announce(db, item.Id, item.TenantId, current.Version, current.Status, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<Results<FileStreamHttpResult, NotFound>> DownloadAsync(
        Guid id, Guid attachmentId, HttpContext context, ProDeskDbContext db, ProDeskPaths paths, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        // A file the caller may not see is one that does not exist (404), as another tenant's is.
        var attachment = await db.WorkItemAttachments.AsNoTracking().VisibleTo(db, user).FirstOrDefaultAsync(a => a.Id == attachmentId && a.WorkItemId == id, cancellationToken);
        var path = attachment is null ? null : BlobPath(paths, attachment.TenantId, attachment.Id);
        if (attachment is null || !File.Exists(path))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        // A client's file is not for shared caches, nor for the disk cache of a browser someone else uses next.
        context.Response.Headers.CacheControl = "private, no-store";
        var type = InlineSafeTypes.Contains(attachment.ContentType) ? attachment.ContentType : "application/octet-stream";
        // The bytes never change under an id: their hash is a strong validator, so a resumed download cannot splice two files.
        var tag = attachment.Sha256 is { Length: > 0 } sha ? new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{Convert.ToHexStringLower(sha)}\"") : null;
        // TypedResults.File with a download name writes Content-Disposition: attachment (RFC 6266, with filename*).
        return TypedResults.File(File.OpenRead(path), type, attachment.FileName, new DateTimeOffset(DateTime.SpecifyKind(attachment.CreatedAt, DateTimeKind.Utc)), tag, enableRangeProcessing: true);
    }

    /// <summary>
    /// Writes an attachment's bytes to blobs/{tenant}/{id} (through a temporary file, so a reader never
    /// sees half a file) and gives their length and SHA-256. Channels write a message's files here
    /// before the transaction that records them: a crash in between leaves an unreferenced file, never a reference to none.
    /// </summary>
    public static async Task<(long Length, byte[] Sha256)> WriteBlobAsync(ProDeskPaths paths, Guid tenantId, Guid id, Stream input, CancellationToken cancellationToken)
    {
        var target = BlobPath(paths, tenantId, id);
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = target + ".part";
        long length;
        byte[] sha256;
        try
        {
            await using (var output = PrivateFiles.Open(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                (length, sha256) = await HashingCopy.ToDiskAsync(input, output, cancellationToken);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            // Cancelled, a full disk, a sender gone mid-upload: half a file is nobody's.
            DeleteQuietly(temporary);
            throw;
        }

        return (length, sha256);
    }

    /// <summary>One file of a message to write: its id, how to open its bytes, and what the message calls it.</summary>
    public sealed record BlobToWrite(Guid Id, Func<Stream> Open, string FileName, string ContentType);

    /// <summary>
    /// Writes a message's files one after another (<see cref="WriteBlobAsync"/>); when one fails, those already
    /// written go with it, as nothing will refer to them.
    /// </summary>
    public static async Task<IReadOnlyList<Channels.InboundAttachment>> WriteBlobsAsync(ProDeskPaths paths, Guid tenantId, IEnumerable<BlobToWrite> files, CancellationToken cancellationToken)
    {
        var stored = new List<Channels.InboundAttachment>();
        try
        {
            foreach (var file in files)
            {
                await using var input = file.Open();
                var (length, sha) = await WriteBlobAsync(paths, tenantId, file.Id, input, cancellationToken);
                stored.Add(new Channels.InboundAttachment(file.Id, file.FileName, file.ContentType, length, sha));
            }
        }
        catch
        {
            DeleteBlobs(paths, tenantId, stored.Select(a => a.BlobId));
            throw;
        }

        return stored;
    }

    /// <summary>
    /// Removes files written for rows that were never committed (a lost race, a failed or abandoned write): nothing
    /// refers to them, and gateways send the large mails again, so each retry would leave another copy on disk.
    /// </summary>
    public static void DeleteBlobs(ProDeskPaths paths, Guid tenantId, IEnumerable<Guid> ids)
    {
        foreach (var id in ids)
        {
            DeleteQuietly(BlobPath(paths, tenantId, id));
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the file stays unreferenced, as after a crash.
        }
    }

    /// <summary>Where an attachment's bytes are: blobs/{tenant}/{attachment id}.</summary>
    public static string BlobPath(ProDeskPaths paths, Guid tenantId, Guid id) => Path.Combine(paths.BlobDirectory, tenantId.ToString("N"), id.ToString("N"));

    /// <summary>
    /// A sender's declared type (a browser's, a mail part's) when it is one plain media type, lower-cased; otherwise
    /// octet-stream. A hint only: downloads are served as attachments with nosniff whatever it says. Parameters are
    /// dropped; control characters (a NUL cannot even be stored in PostgreSQL) or anything else odd make it octet-stream.
    /// </summary>
    public static string MediaType(string? declared)
    {
        var type = declared?.Split(';', 2)[0].Trim().ToLowerInvariant() ?? "";
        return type.Length is > 2 and <= 127 && type.Count(c => c == '/') == 1 && type[0] != '/' && type[^1] != '/'
            && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '+' or '-' or '_' or '!' or '#' or '$' or '&' or '^')
            ? type
            : "application/octet-stream";
    }

    /// <summary>
    /// Whether the caller sees what is internal to the provider (notes, staff's files, delivery errors): staff do; the
    /// client company's people and systems do not.
    /// </summary>
    public static bool SeesInternal(ClaimsPrincipal user) => Roles.Staff.Any(user.IsInRole);

    /// <summary>
    /// The files <paramref name="user"/> may see. Staff see every file; the client company's people and systems see the
    /// files that came with the customer's messages and those the client's own users and integration uploaded, not
    /// what staff uploaded (the item page tells agents an upload is internal, not sent to the customer) nor a note's
    /// files: the same wall as for internal notes. An uploader that is no longer a client user (a staff member, a
    /// deleted account) counts as staff, so a doubt hides the file rather than shows it.
    /// </summary>
    public static IQueryable<WorkItemAttachment> VisibleTo(this IQueryable<WorkItemAttachment> files, ProDeskDbContext db, ClaimsPrincipal user) =>
        SeesInternal(user) ? files : files.Where(a =>
            (a.WorkItemMessageId == null || !db.WorkItemMessages.Any(m => m.Id == a.WorkItemMessageId && m.Kind == MessageKind.Note))
            && (a.UploadedBy == null || db.Users.Any(u => u.Id == a.UploadedBy && u.TenantId != null)));

    /// <summary>
    /// The trail <paramref name="user"/> may see: for the client company, without the uploads of staff (their file names
    /// and the uploader's address are as internal as the files; <see cref="VisibleTo"/>).
    /// </summary>
    public static IQueryable<WorkItemChange> VisibleTo(this IQueryable<WorkItemChange> changes, ProDeskDbContext db, ClaimsPrincipal user) =>
        SeesInternal(user) ? changes : changes.Where(c =>
            c.Field != TrailField || c.ActorId == null || db.Users.Any(u => u.Id == c.ActorId && u.TenantId != null));

    /// <summary>The trail's field for an uploaded file.</summary>
    public const string TrailField = "attachment";

    public static AttachmentView View(WorkItemAttachment a) => new(a.Id, a.FileName, a.ContentType, a.Length, a.CreatedAt);
}
