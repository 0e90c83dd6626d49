using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Identity;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin.Mail;

/// <summary>
/// A provider admin's view of a client's mail: its IMAP mailboxes (last poll, last error) and the mail
/// kept raw in quarantine, each downloadable, reprocessable (also with the size limit lifted) or discarded; and the mail
/// the hygiene rules dropped, which can be taken in when a rule was wrong.
/// The client is the route's <c>{tenant}</c>, so the page runs in that tenant's scope.
/// </summary>
[Authorize(Policy = CurrentSession.ProviderAdminPolicy)]
public sealed class IndexModel(ITenantContext tenantContext, ITenantStore tenantStore, ProDeskDbContext db, IngestEmail ingest, DiscardQuarantinedMail discard) : PageModel
{
    public IReadOnlyList<TenantInfo> Tenants { get; private set; } = [];

    public TenantInfo? Client { get; private set; }

    public IReadOnlyList<Mailbox> Mailboxes { get; private set; } = [];

    public IReadOnlyList<InboundMail> Quarantined { get; private set; } = [];

    /// <summary>How many dropped mails the page lists, newest first.</summary>
    public const int DroppedShown = 100;

    /// <summary>Mail the hygiene rules dropped (an auto-reply, a report, our own mail come back), newest first.</summary>
    public IReadOnlyList<InboundMail> Dropped { get; private set; } = [];

    public string? Message { get; private set; }

    /// <summary>What the last reprocess did, carried over its redirect in (signed) TempData: a message in the URL would let anyone's link put words on this page.</summary>
    [TempData(Key = "mail-message")]
    public string? Outcome { get; set; }

    public async Task<IActionResult> OnGetAsync(string? client, CancellationToken cancellationToken)
    {
        if (RouteTenant is null && !string.IsNullOrEmpty(client))
        {
            return Redirect($"/admin/mail/{Uri.EscapeDataString(client)}");
        }

        Message = Outcome;
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostReprocessAsync(Guid id, bool allowOversize, CancellationToken cancellationToken)
    {
        if (RouteTenant is not { } tenant)
        {
            return NotFound();
        }

        var result = await ingest.ReprocessAsync(id, allowOversize, cancellationToken);
        if (result is null)
        {
            if (await RawMailRetention.WhyGoneAsync(db, id, cancellationToken) is not { } gone)
            {
                return NotFound();
            }

            Outcome = $"Mail {id} cannot be reprocessed: {gone}.";
            return Redirect($"/admin/mail/{Uri.EscapeDataString(tenant.Slug)}");
        }

        Outcome = result.Outcome switch
        {
            IngestEmail.Outcome.Quarantined => $"Still quarantined: {result.Reason}",
            IngestEmail.Outcome.Refused => $"Mail {id} cannot be taken in: {result.Reason}",
            IngestEmail.Outcome.Duplicate => $"Mail {id} was taken in already, as item {result.WorkItemId}.",
            _ => $"Mail {id} was taken in ({result.Outcome.ToString().ToLowerInvariant()}).",
        };
        return Redirect($"/admin/mail/{Uri.EscapeDataString(tenant.Slug)}");
    }

    public async Task<IActionResult> OnPostDiscardAsync(Guid id, CancellationToken cancellationToken)
    {
        if (RouteTenant is not { } tenant)
        {
            return NotFound();
        }

        var actor = Guid.TryParse(User.FindFirstValue(ProDeskClaims.Subject), out var actorId) ? actorId : (Guid?)null;
        if (!await discard.HandleAsync(id, actor, User.FindFirstValue(ProDeskClaims.Email) ?? User.Identity?.Name ?? "?", cancellationToken))
        {
            return NotFound();
        }

        Outcome = $"Mail {id} was discarded.";
        return Redirect($"/admin/mail/{Uri.EscapeDataString(tenant.Slug)}");
    }

    private TenantInfo? RouteTenant => RouteData.Values.TryGetValue(TenantResolutionMiddleware.RouteValue, out var slug) && slug is string ? tenantContext.Current : null;

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Tenants = await tenantStore.ListAsync(cancellationToken);
        Client = RouteTenant;
        if (Client is null)
        {
            return;
        }

        Mailboxes = await db.Mailboxes.AsNoTracking().OrderBy(m => m.Key).ToListAsync(cancellationToken);
        Quarantined = await db.InboundMails.AsNoTracking().Where(m => m.State == InboundMailState.Quarantined)
            .OrderByDescending(m => m.ReceivedAt).Take(200).ToListAsync(cancellationToken);
        Dropped = await db.InboundMails.AsNoTracking().Where(m => m.State == InboundMailState.Dropped)
            .OrderByDescending(m => m.ReceivedAt).Take(DroppedShown).ToListAsync(cancellationToken);
    }
}
