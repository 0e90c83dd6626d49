using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Domain.Contacts;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// The console's search across every client the caller serves, closed items included (the queue lists only active
/// ones): by the reference an acknowledgment gave the customer (the item id), by the customer (name, any of their
/// addresses or numbers) and by subject. A customer who phones with their reference, or mails again after the
/// conversation closed, is found this way (probe round 20).
/// </summary>
public sealed class WorkItemSearch(ProDeskDbContext db, ITenantContext tenants)
{
    public const int MaxResults = 50;

    /// <summary>Contacts taken into the item query at most: a search as broad as "a" finds items by subject anyway.</summary>
    private const int MaxContacts = 200;

    public sealed record Hit(Guid Id, string Tenant, string TenantName, string Subject, string Status, string Channel, DateTime CreatedAt, DateTime UpdatedAt, string? ContactName);

    /// <summary>Newest activity first; at most <see cref="MaxResults"/>, and whether more matched.</summary>
    public sealed record Result(IReadOnlyList<Hit> Hits, bool More);

    public async Task<Result> FindAsync(string query, CancellationToken cancellationToken)
    {
        var text = query.Trim();
        var byId = tenants.Scope.Tenants.ToDictionary(t => t.Id);
        if (text.Length == 0 || byId.Count == 0)
        {
            return new Result([], false);
        }

        var items = db.WorkItems.AsNoTracking();
        IQueryable<ProDesk.Data.WorkItems.WorkItem> matching;
        if (Guid.TryParse(text.Trim('{', '}', '#'), out var reference))
        {
            matching = items.Where(w => w.Id == reference);
        }
        else
        {
            var lower = text.ToLowerInvariant();
            // Phones are stored in E.164: a typed "06 12 34 56 78" is completed with each client's country, as stored.
            var phones = byId.Values.Select(t => PhoneNumber.Normalize(text, PhoneRegion.OfTimeZone(t.TimeZone)))
                .Append(PhoneNumber.Normalize(text)).OfType<string>().Distinct().ToList();
#pragma warning disable CA1862 // In SQL: the StringComparison overloads do not translate on both providers.
            var contactIds = await db.Contacts.AsNoTracking()
                .Where(c => c.Name.ToLower().Contains(lower) || (c.Email != null && c.Email.Contains(lower)) || (c.Phone != null && phones.Contains(c.Phone))
                    || db.ContactIdentities.Any(i => i.ContactId == c.Id && (i.Kind == ContactIdentity.EmailKind ? i.Value.Contains(lower) : phones.Contains(i.Value))))
                .Select(c => c.Id).Take(MaxContacts).ToListAsync(cancellationToken);
            matching = items.Where(w => w.Subject.ToLower().Contains(lower) || (w.ContactId != null && contactIds.Contains(w.ContactId.Value)));
#pragma warning restore CA1862
        }

        var found = await matching.OrderByDescending(w => w.UpdatedAt).ThenByDescending(w => w.Id).Take(MaxResults + 1)
            .Select(w => new { w.Id, w.TenantId, w.Subject, w.Status, w.Channel, w.CreatedAt, w.UpdatedAt, w.ContactId })
            .ToListAsync(cancellationToken);
        var contactIdsShown = found.Where(w => w.ContactId is not null).Select(w => w.ContactId!.Value).Distinct().ToList();
        var names = await db.Contacts.AsNoTracking().Where(c => contactIdsShown.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var hits = found.Take(MaxResults).Where(w => byId.ContainsKey(w.TenantId)).Select(w => new Hit(
            w.Id, byId[w.TenantId].Slug, byId[w.TenantId].Name, w.Subject, w.Status.ToString(), w.Channel, w.CreatedAt, w.UpdatedAt,
            w.ContactId is { } contact ? names.GetValueOrDefault(contact) : null)).ToList();
        return new Result(hits, found.Count > MaxResults);
    }
}
