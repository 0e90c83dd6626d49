using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
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
/// (priority, then SLA due time, items without a running clock last, then age), in a queue whose required skills it has. On PostgreSQL one statement claims
/// with FOR UPDATE SKIP LOCKED and writes the change row and the outbox event, so two agents never get
/// the same item, never wait on each other, and a claim is one round trip; on SQLite, whose writers are
/// serialised anyway, a conditional update does the same.
/// </summary>
public sealed class ClaimNextItem(ProDeskDbContext db, DatabaseSettings settings, ITenantContext tenants, OutboxRelay relay, TimeProvider clock)
{
    private sealed record Claimed(WorkItemSummary Item, Guid TenantId);

    public async Task<WorkItemSummary?> HandleAsync(ClaimsPrincipal agent, WorkItemKind? kind, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(agent.FindFirstValue(ProDeskClaims.Subject), out var agentId) || tenants.Scope.TenantIds.Count == 0)
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var actorName = agent.FindFirstValue(ProDeskClaims.Email);
        var claimed = settings.Provider == DatabaseProvider.Postgres
            ? await ClaimOnPostgresAsync(agentId, actorName, kind, now, cancellationToken)
            : await ClaimOnSqliteAsync(agentId, actorName, kind, now, cancellationToken);
        if (claimed is null)
        {
            return null;
        }

        relay.Wake();
        // The console opens the item at /agent/items/{tenant}/{id}: the claim may come from any tenant served.
        return claimed.Item with { Tenant = tenants.Scope.Tenants.FirstOrDefault(t => t.Id == claimed.TenantId)?.Slug };
    }

    /// <summary>
    /// The claim, its change row and its outbox event (as <see cref="WorkItemTrail.Assigned"/> writes them), and the
    /// answer, in one statement: the hottest path of the desk, so one round trip. The queues whose skills the agent has
    /// are listed once per statement (an uncorrelated ARRAY subquery), not looked up for every row the scan passes.
    /// </summary>
    private async Task<Claimed?> ClaimOnPostgresAsync(Guid agentId, string? actorName, WorkItemKind? kind, DateTime now, CancellationToken cancellationToken)
    {
        var tenantIds = tenants.Scope.TenantIds.ToArray();
        var kindText = kind?.ToString();
        FormattableString statement = $"""
            WITH claimed AS (
                UPDATE "WorkItems" SET "AssigneeId" = {agentId}, "Version" = "Version" + 1, "UpdatedAt" = {now}
                WHERE "Id" = (
                    SELECT w."Id" FROM "WorkItems" w
                    WHERE w."TenantId" = ANY({tenantIds}) AND w."Status" = 'Open' AND w."AssigneeId" IS NULL
                      AND ({kindText}::text IS NULL OR w."Kind" = {kindText})
                      AND w."QueueId" = ANY (ARRAY(SELECT q."Id" FROM "Queues" q WHERE q."TenantId" = ANY({tenantIds})
                          AND q."RequiredSkills" <@ COALESCE((SELECT u."Skills" FROM "AspNetUsers" u WHERE u."Id" = {agentId}), ARRAY[]::text[])))
                    ORDER BY w."Priority" DESC, w."DueAt", w."CreatedAt", w."Id"
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING *),
            changed AS (
                INSERT INTO "WorkItemChanges" ("TenantId", "WorkItemId", "At", "ActorId", "ActorName", "Field", "To")
                SELECT "TenantId", "Id", {now}, {agentId}, {actorName}, 'assignee', {agentId.ToString()} FROM claimed),
            published AS (
                INSERT INTO "OutboxEvents" ("TenantId", "Type", "PayloadJson", "CreatedAt")
                SELECT "TenantId", 'WorkItemAssigned', json_build_object('Id', "Id", 'AssigneeId', {agentId})::text, {now} FROM claimed)
            SELECT c."Id", c."TenantId", c."Kind", c."Status", c."Priority", q."Key" AS "QueueKey", c."Subject", c."Channel", c."ExternalId",
                   c."AssigneeId", c."Tags", c."CreatedAt", c."UpdatedAt", c."Version"
            FROM claimed c JOIN "Queues" q ON q."Id" = c."QueueId"
            """;

        // A raw command rather than SqlQuery: it is the same statement every time, and EF Core's query pipeline
        // (expression tree, cache key over the whole text, shaper) cost the app more CPU than reading one row by hand.
        // The context's interceptors run as for any command (row-level security's tenant setting).
        var command = db.GetService<IRawSqlCommandBuilder>().Build(statement.Format, statement.GetArguments()!);
        await using var reader = await command.RelationalCommand.ExecuteReaderAsync(
            new RelationalCommandParameterObject(
                db.GetService<IRelationalConnection>(), command.ParameterValues, null, db,
                db.GetService<IRelationalCommandDiagnosticsLogger>(), CommandSource.FromSqlQuery),
            cancellationToken);
        var row = reader.DbDataReader;
        if (!await row.ReadAsync(cancellationToken))
        {
            return null;
        }

        var summary = new WorkItemSummary(
            row.GetGuid(0), row.GetString(2), row.GetString(3), ((WorkItemPriority)row.GetInt32(4)).ToString(), row.GetString(5),
            row.GetString(6), row.GetString(7), row.IsDBNull(8) ? null : row.GetString(8), row.IsDBNull(9) ? null : row.GetGuid(9),
            row.GetFieldValue<string[]>(10), DateTime.SpecifyKind(row.GetDateTime(11), DateTimeKind.Utc),
            DateTime.SpecifyKind(row.GetDateTime(12), DateTimeKind.Utc), row.GetInt32(13));
        return new Claimed(summary, row.GetGuid(1));
    }

    private async Task<Claimed?> ClaimOnSqliteAsync(Guid agentId, string? actorName, WorkItemKind? kind, DateTime now, CancellationToken cancellationToken)
    {
        var skills = (await db.Users.AsNoTracking().Where(u => u.Id == agentId).Select(u => u.Skills).FirstOrDefaultAsync(cancellationToken) ?? []).ToArray();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var candidate = await db.WorkItems
                .Where(w => w.Status == WorkItemStatus.Open && w.AssigneeId == null && (kind == null || w.Kind == kind)
                    && db.Queues.Any(q => q.Id == w.QueueId && q.RequiredSkills.All(s => skills.Contains(s))))
                .InClaimOrder()
                .Select(w => new { w.Id, w.TenantId })
                .FirstOrDefaultAsync(cancellationToken);
            if (candidate is null)
            {
                return null;
            }

            var won = await db.WorkItems.Where(w => w.Id == candidate.Id && w.AssigneeId == null)
                .ExecuteUpdateAsync(s => s.SetProperty(w => w.AssigneeId, agentId).SetProperty(w => w.Version, w => w.Version + 1).SetProperty(w => w.UpdatedAt, now), cancellationToken);
            if (won == 1)
            {
                WorkItemTrail.Assigned(db, candidate.Id, candidate.TenantId, agentId, agentId, actorName, now);
                await db.SaveChangesAsync(cancellationToken);
                var summary = await db.WorkItems.AsNoTracking().Where(w => w.Id == candidate.Id)
                    .Select(w => new { Item = w, Queue = db.Queues.Where(q => q.Id == w.QueueId).Select(q => q.Key).First() })
                    .Select(x => x.Item.Summary(x.Queue))
                    .FirstAsync(cancellationToken);
                return new Claimed(summary, candidate.TenantId);
            }
        }

        return null;
    }
}
