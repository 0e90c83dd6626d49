using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Channels.Email;

/// <summary>Provider admins see a tenant's quarantined mail (unparseable or oversized), download it raw and reprocess it.</summary>
public static class QuarantineApi
{
    public sealed record QuarantinedMail(Guid Id, string Source, DateTime ReceivedAt, long Size, string? FromAddress, string? Subject, string? Reason);

    public static RouteGroupBuilder MapQuarantineApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant}/channels/email/quarantine")
            .RequireAuthorization(p => p.RequireRole(Roles.ProviderAdmin)).WithTags("Channels");
        group.MapGet("", ListAsync).WithName("ListQuarantinedMail").WithSummary("Mail kept raw because it could not be parsed or was too large, oldest first.");
        group.MapGet("/{id:guid}/raw", RawAsync).WithName("DownloadQuarantinedMail").WithSummary("The mail as received, as a message/rfc822 download.");
        group.MapPost("/{id:guid}/reprocess", ReprocessAsync).WithName("ReprocessQuarantinedMail")
            .WithSummary("Runs the mail through ingestion again; allowOversize=true takes in a mail refused only for its size.");
        return group;
    }

    private static async Task<Ok<List<QuarantinedMail>>> ListAsync(ProDeskDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.InboundMails.AsNoTracking().Where(m => m.State == InboundMailState.Quarantined).OrderBy(m => m.ReceivedAt)
            .Select(m => new QuarantinedMail(m.Id, m.Source, m.ReceivedAt, m.Size, m.FromAddress, m.Subject, m.Reason)).ToListAsync(cancellationToken));

    private static async Task<Results<FileContentHttpResult, NotFound>> RawAsync(Guid id, ProDeskDbContext db, RawMailStore store, HttpContext context, CancellationToken cancellationToken)
    {
        var mail = await db.InboundMails.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.State == InboundMailState.Quarantined, cancellationToken);
        if (mail is null)
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.File(await store.ReadAsync(mail.TenantId, mail.RawSha256, cancellationToken), "message/rfc822", $"{mail.Id}.eml");
    }

    private static async Task<Results<Ok<EmailInboundApi.InboundMailAnswer>, NotFound>> ReprocessAsync(Guid id, bool? allowOversize, IngestEmail ingest, CancellationToken cancellationToken)
    {
        var result = await ingest.ReprocessAsync(id, allowOversize ?? false, cancellationToken);
        return result is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new EmailInboundApi.InboundMailAnswer(result.MailId, result.Outcome.ToString().ToLowerInvariant(), result.WorkItemId, result.Reason));
    }
}
