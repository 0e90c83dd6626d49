using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Data;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Pull mode: the agent claims the most urgent open, unassigned item across the tenants it serves
/// (priority, then age). On PostgreSQL one statement claims with FOR UPDATE SKIP LOCKED, so two
/// agents never get the same item and never wait on each other; on SQLite, whose writers are
/// serialised anyway, a conditional update does the same.
/// </summary>
public sealed class ClaimNextItem(ProDeskDbContext db, DatabaseSettings settings, ITenantContext tenants, OutboxRelay relay, TimeProvider clock)
{
    public async Task<WorkItem?> HandleAsync(ClaimsPrincipal agent, WorkItemKind? kind, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(agent.FindFirstValue(ProDeskClaims.Subject), out var agentId) || tenants.Scope.TenantIds.Count == 0)
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var skills = (await db.Users.AsNoTracking().Where(u => u.Id == agentId).Select(u => u.Skills).FirstOrDefaultAsync(cancellationToken) ?? []).ToArray();
        var claimed = settings.Provider == DatabaseProvider.Postgres
            ? await ClaimOnPostgresAsync(agentId, kind, skills, now, cancellationToken)
            : await ClaimOnSqliteAsync(agentId, kind, skills, now, cancellationToken);
        if (claimed is null)
        {
            return null;
        }

        var item = await db.WorkItems.FirstAsync(w => w.Id == claimed, cancellationToken);
        WorkItemTrail.Assigned(db, item, agentId, agentId, agent.FindFirstValue(ProDeskClaims.Email), now);
        await db.SaveChangesAsync(cancellationToken);
        relay.Wake();
        return item;
    }

    private async Task<Guid?> ClaimOnPostgresAsync(Guid agentId, WorkItemKind? kind, string[] skills, DateTime now, CancellationToken cancellationToken)
    {
        var tenantIds = tenants.Scope.TenantIds.ToArray();
        var kindText = kind?.ToString();
        var ids = await db.Database.SqlQuery<Guid>($"""
            UPDATE "WorkItems" SET "AssigneeId" = {agentId}, "Version" = "Version" + 1, "UpdatedAt" = {now}
            WHERE "Id" = (
                SELECT w."Id" FROM "WorkItems" w
                WHERE w."TenantId" = ANY({tenantIds}) AND w."Status" = 'Open' AND w."AssigneeId" IS NULL
                  AND ({kindText}::text IS NULL OR w."Kind" = {kindText})
                  AND EXISTS (SELECT 1 FROM "Queues" q WHERE q."Id" = w."QueueId" AND q."RequiredSkills" <@ {skills})
                ORDER BY w."Priority" DESC, w."CreatedAt", w."Id"
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING "Id" AS "Value"
            """).ToListAsync(cancellationToken);
        return ids.Count == 0 ? null : ids[0];
    }

    private async Task<Guid?> ClaimOnSqliteAsync(Guid agentId, WorkItemKind? kind, string[] skills, DateTime now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var candidate = await db.WorkItems
                .Where(w => w.Status == WorkItemStatus.Open && w.AssigneeId == null && (kind == null || w.Kind == kind)
                    && db.Queues.Any(q => q.Id == w.QueueId && q.RequiredSkills.All(s => skills.Contains(s))))
                .OrderByDescending(w => w.Priority).ThenBy(w => w.CreatedAt).ThenBy(w => w.Id)
                .Select(w => (Guid?)w.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (candidate is null)
            {
                return null;
            }

            var won = await db.WorkItems.Where(w => w.Id == candidate && w.AssigneeId == null)
                .ExecuteUpdateAsync(s => s.SetProperty(w => w.AssigneeId, agentId).SetProperty(w => w.Version, w => w.Version + 1).SetProperty(w => w.UpdatedAt, now), cancellationToken);
            if (won == 1)
            {
                return candidate;
            }
        }

        return null;
    }
}
