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
    public sealed record Row(Guid Id, string Tenant, string TenantName, string Subject, string Status, string Priority, string Channel, Guid? AssigneeId, DateTime CreatedAt, int Version, DateTime? DueAt, DateTime? BreachedAt);

    public async Task<IReadOnlyList<Row>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var byId = tenants.Scope.Tenants.ToDictionary(t => t.Id);
        var items = await db.WorkItems.AsNoTracking()
            .Where(w => WorkItemTrail.ActiveStatuses.Contains(w.Status))
            .InClaimOrder()
            .Take(limit)
            .ToListAsync(cancellationToken);
        return items.Where(w => byId.ContainsKey(w.TenantId)).Select(w => new Row(
            w.Id, byId[w.TenantId].Slug, byId[w.TenantId].Name, w.Subject, w.Status.ToString(), w.Priority.ToString(), w.Channel, w.AssigneeId, w.CreatedAt, w.Version, w.DueAt, w.BreachedAt)).ToList();
    }
}
