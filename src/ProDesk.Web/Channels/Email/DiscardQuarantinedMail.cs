using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Audit;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// A provider admin dismisses a quarantined mail that will never parse (or is junk): its ledger row stays, as Dropped
/// with who discarded it, so the same mail delivered again is still a duplicate rather than a new quarantine, and its raw
/// copy is deleted unless another ledger row names the same bytes. Audited (<c>quarantine-discarded</c>). Shared by the
/// API, the admin page and the command line.
/// </summary>
public sealed class DiscardQuarantinedMail(ProDeskDbContext db, RawMailStore store, AuditLog audit)
{
    public const string Action = "quarantine-discarded";

    /// <summary>How a discarded mail's reason starts: it is Dropped, but no hygiene rule dropped it, and its raw copy may be gone.</summary>
    public const string ReasonPrefix = "discarded by ";

    /// <summary>False when the tenant in scope has no quarantined mail <paramref name="mailId"/>.</summary>
    public async Task<bool> HandleAsync(Guid mailId, Guid? actorId, string actorName, CancellationToken cancellationToken)
    {
        var mail = await db.InboundMails.FirstOrDefaultAsync(m => m.Id == mailId && m.State == InboundMailState.Quarantined, cancellationToken);
        if (mail is null)
        {
            return false;
        }

        var was = mail.Reason;
        mail.State = InboundMailState.Dropped;
        mail.Reason = ColumnText.Fit($"{ReasonPrefix}{actorName} from quarantine ({was})", 1000);
        // The audit row and the state change are saved together.
        await audit.RecordAsync(Action, actorId, actorName, mail.Id.ToString(), mail.TenantId,
            ColumnText.Fit($"{mail.FromAddress}: {mail.Subject} ({was})", 1000), cancellationToken);

        if (!await db.InboundMails.AnyAsync(m => m.Id != mail.Id && m.RawSha256 == mail.RawSha256 && m.RawRemovedAt == null, cancellationToken))
        {
            // After the commit: a failed save leaves the mail quarantined with its bytes.
            File.Delete(store.PathOf(mail.TenantId, mail.RawSha256));
        }

        return true;
    }
}
