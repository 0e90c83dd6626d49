using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Audit;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Contacts;

/// <summary>
/// Merges one contact into another (the same person came in by email and by phone, or twice by
/// two addresses): the source's items move to the target, each with a trail entry and an outbox
/// event; the target takes the source's email, phone and company where it has none, and keeps the
/// source's email and phone as further identities where it has its own (so neither is lost); the
/// source is deleted; the audit log records it. One transaction: all of it or none.
/// </summary>
/// <remarks>
/// The audit entry names the two contacts by id and says which identities moved or were kept,
/// but not the identities themselves: the log is append-only and must not keep personal data that
/// a deletion request could not reach.
/// </remarks>
public sealed class MergeContacts(ProDeskDbContext db, AuditLog audit, OutboxRelay relay, TimeProvider clock)
{
    public const string AuditAction = "contact-merged";

    public enum Outcome
    {
        Merged,
        NotFound,
        Invalid,

        /// <summary>An item arrived for the source while merging, three times over: nothing changed.</summary>
        Busy,
    }

    public sealed record Result(Outcome Outcome, string? Error = null);

    public async Task<Result> HandleAsync(Guid targetId, Guid sourceId, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryOnceAsync(targetId, sourceId, actor, cancellationToken);
            }
            catch (DbUpdateException)
            {
                // The foreign key from items: an item was created for the source after its items were moved.
                // The rollback undid everything; the next attempt moves that item too.
                db.ChangeTracker.Clear();
                if (attempt == 3)
                {
                    return new Result(Outcome.Busy);
                }
            }
        }
    }

    private async Task<Result> TryOnceAsync(Guid targetId, Guid sourceId, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        // Both through the tenant filter: another tenant's contact is not found, whichever side it is on.
        var target = await db.Contacts.FirstOrDefaultAsync(c => c.Id == targetId, cancellationToken);
        var source = await db.Contacts.FirstOrDefaultAsync(c => c.Id == sourceId, cancellationToken);
        if (target is null || source is null)
        {
            return new Result(Outcome.NotFound);
        }

        if (target.Id == source.Id)
        {
            return new Result(Outcome.Invalid, "is this contact itself");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var actorId = Guid.TryParse(actor.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : (Guid?)null;
        var actorName = actor.FindFirstValue(ProDeskClaims.Email) ?? actor.FindFirstValue(ProDeskClaims.Subject);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var items = await db.WorkItems.Where(w => w.ContactId == source.Id).ToListAsync(cancellationToken);
        foreach (var item in items)
        {
            item.ContactId = target.Id;
            WorkItemTrail.Changed(db, item.Id, item.TenantId, now, actorId, actorName, "contact", source.Id.ToString(), target.Id.ToString());
            WorkItemTrail.Updated(db, item, now);
        }

        // The source's further identities become the target's (the delete below would cascade to them), but for one
        // the target holds itself.
        var identities = await db.ContactIdentities.Where(i => i.ContactId == source.Id).ToListAsync(cancellationToken);
        foreach (var identity in identities)
        {
            if (identity.Value == (identity.Kind == ContactIdentity.EmailKind ? target.Email : target.Phone))
            {
                db.ContactIdentities.Remove(identity);
            }
            else
            {
                identity.ContactId = target.Id;
            }
        }

        // Three saves in one transaction, in the order the constraints need: items and identities off the source
        // (foreign keys), the source gone (it frees its email under the unique index), then the target takes what it lacked.
        await db.SaveChangesAsync(cancellationToken);
        var moved = new List<string>();
        var kept = new List<string>();
        var (email, phone, company) = (source.Email, source.Phone, source.Company);
        db.Contacts.Remove(source);
        await db.SaveChangesAsync(cancellationToken);

        Take(email, target.Email, v => target.Email = v, ContactIdentity.EmailKind, moved, kept);
        Take(phone, target.Phone, v => target.Phone = v, ContactIdentity.PhoneKind, moved, kept);
        Take(company, target.Company, v => target.Company = v, "company", moved, []);
        // Where the target has its own, the source's address or number stays the person's as a further identity: the
        // next mail from it joins the target instead of opening a contact of its own again.
        foreach (var kind in kept)
        {
            db.ContactIdentities.Add(new ContactIdentity
            {
                Id = Guid.CreateVersion7(), TenantId = target.TenantId, ContactId = target.Id, Kind = kind,
                Value = kind == ContactIdentity.EmailKind ? email! : phone!, CreatedAt = now,
            });
        }

        // A form loaded before the merge no longer shows this contact (its items, perhaps its email): a save from it is stale.
        target.Version++;
        await db.SaveChangesAsync(cancellationToken);

        var details = $"from contact {source.Id}; {items.Count} item(s) moved"
            + (moved.Count > 0 ? $"; took {string.Join(", ", moved)}" : "")
            + (kept.Count > 0 ? $"; kept its {string.Join(", ", kept)} as a further identity (this contact has one)" : "")
            + (identities.Count > 0 ? $"; {identities.Count} further identit{(identities.Count == 1 ? "y" : "ies")} moved" : "");
        await audit.RecordAsync(AuditAction, actorId, actorName, $"contact {target.Id}", target.TenantId, details, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        relay.Wake();
        return new Result(Outcome.Merged);
    }

    private static void Take(string? theirs, string? ours, Action<string> set, string what, List<string> moved, List<string> kept)
    {
        if (string.IsNullOrEmpty(theirs) || string.Equals(theirs, ours, StringComparison.Ordinal))
        {
            return;
        }

        if (string.IsNullOrEmpty(ours))
        {
            set(theirs);
            moved.Add(what);
        }
        else
        {
            kept.Add(what);
        }
    }
}
