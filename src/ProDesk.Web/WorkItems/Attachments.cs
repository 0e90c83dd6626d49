using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Domain.WorkItems;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;

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
        tenant.MapPost("/work-items/{id:guid}/attachments", UploadAsync).RequireAuthorization(WorkItemsApi.WritersPolicy).DisableAntiforgery()
            .WithName("UploadAttachment").WithSummary("Attaches one file (multipart field `file`), size-limited.");
        tenant.MapGet("/work-items/{id:guid}/attachments/{attachmentId:guid}", DownloadAsync)
            .WithName("DownloadAttachment").WithSummary("The file, always as a download.");
    }

    private static async Task<Results<Created<AttachmentView>, NotFound, ValidationProblem, ProblemHttpResult>> UploadAsync(
        Guid id, HttpRequest request, ProDeskDbContext db, ProDeskPaths paths, IConfiguration configuration, ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
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
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = [$"the multipart body is malformed: {e.Message}"] });
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
            ContentType = file.ContentType is { Length: > 0 and <= 128 } type ? type : "application/octet-stream",
            Length = file.Length,
            Sha256 = [],
            UploadedBy = Guid.TryParse(user.FindFirstValue(ProDeskClaims.Subject), out var uploader) ? uploader : null,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };

        await using (var input = file.OpenReadStream())
        {
            (_, attachment.Sha256) = await WriteBlobAsync(paths, item.TenantId, attachment.Id, input, cancellationToken);
        }

        db.WorkItemAttachments.Add(attachment);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"{request.Path}/{attachment.Id}", View(attachment));
    }

    private static async Task<Results<FileStreamHttpResult, NotFound>> DownloadAsync(
        Guid id, Guid attachmentId, HttpContext context, ProDeskDbContext db, ProDeskPaths paths, CancellationToken cancellationToken)
    {
        var attachment = await db.WorkItemAttachments.AsNoTracking().FirstOrDefaultAsync(a => a.Id == attachmentId && a.WorkItemId == id, cancellationToken);
        var path = attachment is null ? null : BlobPath(paths, attachment.TenantId, attachment.Id);
        if (attachment is null || !File.Exists(path))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        var type = InlineSafeTypes.Contains(attachment.ContentType) ? attachment.ContentType : "application/octet-stream";
        // TypedResults.File with a download name writes Content-Disposition: attachment (RFC 6266, with filename*).
        return TypedResults.File(File.OpenRead(path), type, attachment.FileName);
    }

    /// <summary>
    /// Writes an attachment's bytes to blobs/{tenant}/{id} (through a temporary file, so a reader never
    /// sees half a file) and gives their length and SHA-256. Channels write a message's files here
    /// before the transaction that records them: a crash in between leaves an unreferenced file, never a reference to none.
    /// </summary>
    public static async Task<(long Length, byte[] Sha256)> WriteBlobAsync(ProDeskPaths paths, Guid tenantId, Guid id, Stream input, CancellationToken cancellationToken)
    {
        var target = BlobPath(paths, tenantId, id);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = target + ".part";
        long length;
        byte[] sha256;
        await using (var output = File.Create(temporary))
        {
            (length, sha256) = await HashingCopy.ToDiskAsync(input, output, cancellationToken);
        }

        File.Move(temporary, target, overwrite: true);
        return (length, sha256);
    }

    /// <summary>Where an attachment's bytes are: blobs/{tenant}/{attachment id}.</summary>
    public static string BlobPath(ProDeskPaths paths, Guid tenantId, Guid id) => Path.Combine(paths.BlobDirectory, tenantId.ToString("N"), id.ToString("N"));

    public static AttachmentView View(WorkItemAttachment a) => new(a.Id, a.FileName, a.ContentType, a.Length, a.CreatedAt);
}
