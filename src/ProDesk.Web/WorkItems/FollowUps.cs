using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// The links between a closed item and the items the customer's later answers started (<see cref="WorkItem.FollowUpOfId"/>):
/// what the item API and the agent's item page show on both sides. Read through the tenant's query filter, so a link
/// shows only an item of the tenant in scope.
/// </summary>
public static class FollowUps
{
    /// <summary>Follow-ups an item lists at most, newest first: an auto-responder answering a closed item could start many.</summary>
    public const int MaxListed = 50;

    /// <summary>An item at the other end of a link; its id is the reference the customer's acknowledgment gave.</summary>
    public sealed record Link(Guid Id, string Subject, string Status, DateTime CreatedAt);

    /// <param name="Of">The earlier item this one follows up; null when none (or not visible in this tenant).</param>
    /// <param name="Ups">The items that follow this one up, newest first, at most <see cref="MaxListed"/>.</param>
    public sealed record Links(Link? Of, IReadOnlyList<Link> Ups);

    /// <summary>Both sides of <paramref name="item"/>'s links, in one query (the earlier item first, so the limit never drops it).</summary>
    public static async Task<Links> OfAsync(ProDeskDbContext db, WorkItem item, CancellationToken cancellationToken)
    {
        var earlier = item.FollowUpOfId;
        var rows = await db.WorkItems.AsNoTracking()
            .Where(w => w.FollowUpOfId == item.Id || (earlier != null && w.Id == earlier))
            .OrderBy(w => w.FollowUpOfId == item.Id ? 1 : 0).ThenByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Take(MaxListed + 1)
            .Select(w => new { w.Id, w.Subject, w.Status, w.CreatedAt, w.FollowUpOfId }).ToListAsync(cancellationToken);
        var links = rows.Select(w => (w.FollowUpOfId, Link: new Link(w.Id, w.Subject, w.Status.ToString(), w.CreatedAt))).ToList();
        return new Links(
            links.Where(l => l.Link.Id == earlier).Select(l => l.Link).FirstOrDefault(),
            [.. links.Where(l => l.FollowUpOfId == item.Id && l.Link.Id != earlier).Select(l => l.Link).Take(MaxListed)]);
    }
}
