using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Identity;
using System.Security.Claims;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Provider admins see a tenant's quarantined mail (unparseable or oversized), download it raw, reprocess or discard it;
/// and the mail the hygiene rules dropped, which they can take in when a rule was wrong.
/// </summary>
public static class QuarantineApi
{
    public sealed record QuarantinedMail(Guid Id, string Source, DateTime ReceivedAt, long Size, string? FromAddress, string? Subject, string? Reason);

    public sealed record QuarantinePage(IReadOnlyList<QuarantinedMail> Items, string? NextCursor);

    public static RouteGroupBuilder MapQuarantineApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant}/channels/email/quarantine")
            .RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("Channels");
        group.MapGet("", ListAsync).WithName("ListQuarantinedMail").WithSummary(
            "Mail kept raw because it could not be parsed or was too large (state=quarantined, the default), or mail the hygiene rules dropped (state=dropped), oldest first, cursor-paginated (limit 1-200, default 50).");
        group.MapGet("/{id:guid}/raw", RawAsync).WithName("DownloadQuarantinedMail").WithSummary("The quarantined or dropped mail as received, as a message/rfc822 download.");
        group.MapPost("/{id:guid}/reprocess", ReprocessAsync).WithName("ReprocessQuarantinedMail")
            .WithSummary("Runs the mail through ingestion again; allowOversize=true takes in a mail refused only for its size. A dropped mail is taken in "
                + "as a person's mail, without an acknowledgment; a mail taken in already answers outcome duplicate with its item; 409 when a dropped mail cannot be taken in.");
        group.MapPost("/{id:guid}/discard", DiscardAsync).WithName("DiscardQuarantinedMail")
            .WithSummary("Takes the mail off the quarantine list for good (audited) and deletes its raw copy; the same mail delivered again stays a duplicate.");
        return group;
    }

    // Anyone who can send the tenant mail can grow this list, so it comes a page at a time.
    private static async Task<Results<Ok<QuarantinePage>, ValidationProblem>> ListAsync(string? cursor, int? limit, string? state, HttpRequest request, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var size = KeysetCursor.PageSize(limit, 50, errors);
        var after = KeysetCursor.AfterTime(request, cursor, errors);
        var listed = state?.ToLowerInvariant() switch
        {
            null or "" or "quarantined" => InboundMailState.Quarantined,
            "dropped" => InboundMailState.Dropped,
            _ => (InboundMailState?)null,
        };
        if (listed is null)
        {
            errors["state"] = ["quarantined or dropped"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var quarantined = db.InboundMails.AsNoTracking().Where(m => m.State == listed);
        if (after is { } a)
        {
            quarantined = quarantined.Where(m => m.ReceivedAt > a.Key || (m.ReceivedAt == a.Key && m.Id.CompareTo(a.Id) > 0));
        }

        var rows = await quarantined.OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).Take(size + 1)
            .Select(m => new QuarantinedMail(m.Id, m.Source, m.ReceivedAt, m.Size, m.FromAddress, m.Subject, m.Reason)).ToListAsync(cancellationToken);
        var next = rows.Count > size ? KeysetCursor.Write(request, rows[size - 1].ReceivedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new QuarantinePage([.. rows.Take(size)], next));
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> RawAsync(Guid id, ProDeskDbContext db, RawMailStore store, HttpContext context, CancellationToken cancellationToken)
    {
        // A dropped mail too, to judge whether to take it in; not one discarded from quarantine, whose bytes are gone.
        var mail = await db.InboundMails.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.State != InboundMailState.Ingested, cancellationToken);
        if (mail is null || !File.Exists(store.PathOf(mail.TenantId, mail.RawSha256)))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.File(await store.ReadAsync(mail.TenantId, mail.RawSha256, cancellationToken), "message/rfc822", $"{mail.Id}.eml");
    }

    private static async Task<Results<Ok<EmailInboundApi.InboundMailAnswer>, NotFound, ProblemHttpResult>> ReprocessAsync(
        Guid id, bool? allowOversize, IngestEmail ingest, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var result = await ingest.ReprocessAsync(id, allowOversize ?? false, cancellationToken);
        if (result is null)
        {
            // Still a 404 (there is no quarantined mail to run), saying why when its bytes went by the retention setting.
            return await RawMailRetention.WhyGoneAsync(db, id, cancellationToken) is { } gone
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The mail cannot be reprocessed", detail: gone)
                : TypedResults.NotFound();
        }

        return result.Outcome == IngestEmail.Outcome.Refused
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The mail cannot be taken in", detail: $"id: {result.Reason}")
            : TypedResults.Ok(new EmailInboundApi.InboundMailAnswer(result.MailId, result.Outcome.ToString().ToLowerInvariant(), result.WorkItemId, result.Reason));
    }

    private static async Task<Results<NoContent, NotFound>> DiscardAsync(Guid id, DiscardQuarantinedMail discard, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await discard.HandleAsync(id, Guid.TryParse(user.FindFirstValue(ProDeskClaims.Subject), out var actor) ? actor : null,
            user.FindFirstValue(ProDeskClaims.Email) ?? user.Identity?.Name ?? "?", cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();
}
