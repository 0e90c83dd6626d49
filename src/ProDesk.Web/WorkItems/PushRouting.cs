using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Data.Queues;
using ProDesk.Domain.Routing;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Push modes: after a new item is committed in a round-robin or least-loaded queue, it is assigned
/// to an eligible online agent (serving the tenant, room for the item's weight). Nobody eligible:
/// it waits in the queue for pull. Round-robin's cursor is per queue and per node.
/// </summary>
public sealed class PushRouting(ProDeskDbContext db, IAgentPresence presence, PushRouting.Cursors cursors, IConfiguration configuration, OutboxRelay relay, TimeProvider clock)
{
    /// <summary>Round-robin positions, per queue.</summary>
    public sealed class Cursors
    {
        public System.Collections.Concurrent.ConcurrentDictionary<Guid, RoundRobinRouter> ByQueue { get; } = new();
    }

    /// <summary>Assigns a new item of a push queue to an online agent; null when the queue is pull or nobody fits.</summary>
    public async Task<Guid?> RouteAsync(WorkItem item, Queue queue, CancellationToken cancellationToken)
    {
        if (queue.Routing == QueueRouting.Pull)
        {
            return null;
        }

        var online = (await presence.OfAsync([item.TenantId], cancellationToken)).Where(a => a.Status == AgentStatus.Online).ToList();
        if (online.Count == 0)
        {
            return null;
        }

        // Presence reports the tenants an agent served when it connected; who serves the tenant now is the database's word.
        var candidates = online.Select(a => a.Id).ToList();
        var serving = await db.StaffTenants.AsNoTracking().Where(s => s.TenantId == item.TenantId && candidates.Contains(s.UserId)).Select(s => s.UserId).ToListAsync(cancellationToken);
        online = online.Where(a => serving.Contains(a.Id)).ToList();
        if (online.Count == 0)
        {
            return null;
        }

        var ids = online.Select(a => a.Id).ToList();
        var loads = await db.WorkItems.AsNoTracking()
            .Where(w => w.AssigneeId != null && ids.Contains(w.AssigneeId.Value)
                && WorkItemTrail.ActiveStatuses.Contains(w.Status))
            .Select(w => new { w.AssigneeId, w.Kind, w.Channel })
            .ToListAsync(cancellationToken);
        var skills = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => (IReadOnlySet<string>)u.Skills.ToHashSet(StringComparer.OrdinalIgnoreCase), cancellationToken);
        var weights = WorkWeights.Default;
        var capacity = configuration.GetValue("Routing:DefaultCapacity", 10);
        var agents = online.Select(a => new AgentProfile(
            a.Id, a.Tenants, skills.GetValueOrDefault(a.Id, RoutingCandidate.NoSkills), a.Status, capacity,
            loads.Where(l => l.AssigneeId == a.Id).Sum(l => weights.WeightOf(l.Kind, l.Channel)))).ToList();
        var candidate = new RoutingCandidate(item.Id, item.TenantId, item.Priority, null, item.CreatedAt, item.Kind, queue.RequiredSkills.ToHashSet(StringComparer.OrdinalIgnoreCase), item.Channel);
        IPushRouter router = queue.Routing == QueueRouting.RoundRobin
            ? cursors.ByQueue.GetOrAdd(queue.Id, _ => new RoundRobinRouter(weights))
            : new LeastLoadedRouter(weights);
        if (router.PickAgent(candidate, agents) is not { } agent)
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var assigned = await db.WorkItems.Where(w => w.Id == item.Id && w.AssigneeId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(w => w.AssigneeId, agent.Id).SetProperty(w => w.Version, w => w.Version + 1).SetProperty(w => w.UpdatedAt, now), cancellationToken);
        if (assigned == 0)
        {
            return null;
        }

        WorkItemTrail.Assigned(db, item.Id, item.TenantId, agent.Id, null, $"routing:{queue.Routing}", now);
        await db.SaveChangesAsync(cancellationToken);
        relay.Wake();
        return agent.Id;
    }
}
