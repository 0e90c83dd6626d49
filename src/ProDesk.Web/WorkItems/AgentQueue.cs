using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// The unified queue of the agent console: active items across every tenant in the caller's scope
/// (the tenants it serves), most urgent first, then by SLA due time (items without a running clock
/// after those with one), then oldest: the order claim-next takes them in.
/// </summary>
public sealed class AgentQueue(ProDeskDbContext db, ITenantContext tenants)
{
    /// <param name="AssigneeName">Who the item is assigned to; null when unassigned.</param>
    public sealed record Row(Guid Id, string Tenant, string TenantName, string Subject, string Status, string Priority, string Channel, Guid? AssigneeId, DateTime CreatedAt, int Version, DateTime? DueAt, DateTime? BreachedAt, string? AssigneeName = null);

    /// <summary>The <paramref name="limit"/> most urgent active items, and whether more are waiting beyond them.</summary>
    public sealed record Page(IReadOnlyList<Row> Rows, bool More);

    public async Task<Page> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var byId = tenants.Scope.Tenants.ToDictionary(t => t.Id);
        // One more than shown says whether the list is cut, without counting every open item on each live refresh.
        var items = await db.WorkItems.AsNoTracking()
            .Where(w => WorkItemTrail.ActiveStatuses.Contains(w.Status))
            .InClaimOrder()
            .Take(limit + 1)
            .ToListAsync(cancellationToken);
        var assignees = items.Where(w => w.AssigneeId is not null).Select(w => w.AssigneeId!.Value).Distinct().ToList();
        var names = assignees.Count == 0 ? [] : await db.Users.AsNoTracking().Where(u => assignees.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.DisplayName, cancellationToken);
        var rows = items.Take(limit).Where(w => byId.ContainsKey(w.TenantId)).Select(w => new Row(
            w.Id, byId[w.TenantId].Slug, byId[w.TenantId].Name, w.Subject, w.Status.ToString(), w.Priority.ToString(), w.Channel, w.AssigneeId, w.CreatedAt, w.Version, w.DueAt, w.BreachedAt,
            w.AssigneeId is { } assignee ? names.GetValueOrDefault(assignee) ?? "assigned" : null)).ToList();
        return new Page(rows, items.Count > limit);
    }
}
