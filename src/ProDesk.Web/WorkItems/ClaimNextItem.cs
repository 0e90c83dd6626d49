using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Caching.Memory;
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
/// with FOR UPDATE SKIP LOCKED and writes the change rows and the outbox events, so two agents never get
/// the same item and never wait on each other; claims arriving together for the same tenants share that statement
/// (<see cref="ClaimBatches"/>). On SQLite, whose writers are serialised anyway, a conditional update does the same.
/// </summary>
public sealed class ClaimNextItem(ProDeskDbContext db, DatabaseSettings settings, ITenantContext tenants, ClaimBatches batches, IMemoryCache cache, OutboxRelay relay, TimeProvider clock)
{
    public async Task<WorkItemSummary?> HandleAsync(ClaimsPrincipal agent, WorkItemKind? kind, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(agent.FindFirstValue(ProDeskClaims.Subject), out var agentId) || tenants.Scope.TenantIds.Count == 0)
        {
            return null;
        }

        var actorName = agent.FindFirstValue(ProDeskClaims.Email);
        var claimed = settings.Provider == DatabaseProvider.Postgres
            ? await ClaimOnPostgresAsync(new ClaimBatches.Claimant(agentId, actorName), kind, cancellationToken)
            : await ClaimOnSqliteAsync(agentId, actorName, kind, clock.GetUtcNow().UtcDateTime, cancellationToken);
        if (claimed is null)
        {
            return null;
        }

        relay.Wake();
        // The console opens the item at /agent/items/{tenant}/{id}: the claim may come from any tenant served.
        return claimed.Item with { Tenant = tenants.Scope.Tenants.FirstOrDefault(t => t.Id == claimed.TenantId)?.Slug };
    }

    /// <summary>
    /// Joins the claims waiting for the same tenants and kind. This request either waits while another one's statement
    /// claims for it, or leads: it runs the statement, on its own connection and row-level-security scope (the same
    /// tenants as everyone's in the batch), for itself and whoever was waiting.
    /// </summary>
    private async Task<ClaimBatches.Claimed?> ClaimOnPostgresAsync(ClaimBatches.Claimant me, WorkItemKind? kind, CancellationToken cancellationToken)
    {
        var tenantIds = tenants.Scope.TenantIds.Order().ToArray();
        var lane = batches.LaneFor(tenantIds, kind);
        var turn = await lane.JoinAsync(me, cancellationToken);
        if (turn.Outcome is { } outcome)
        {
            // Claimed by another request's statement; if that statement failed, once more on our own.
            return outcome.Failed ? (await ClaimAsync(tenantIds, kind, [me], CancellationToken.None))[0] : outcome.Claimed;
        }

        var batch = turn.Batch;
        try
        {
            var results = await ClaimAsync(tenantIds, kind, batch, CancellationToken.None);
            for (var i = 1; i < batch.Count; i++)
            {
                batch[i].Complete(new ClaimBatches.Outcome(results[i], Failed: false));
            }

            return results[0];
        }
        catch
        {
            for (var i = 1; i < batch.Count; i++)
            {
                batch[i].Complete(new ClaimBatches.Outcome(null, Failed: true));
            }

            throw;
        }
        finally
        {
            lane.Leave();
        }
    }

    /// <summary>
    /// Claims for every claimant in order, one item each at most (null: nothing left that it may take). The agents'
    /// skills are read once; claimants with the same skills (the usual case: one team) share one statement.
    /// </summary>
    private async Task<ClaimBatches.Claimed?[]> ClaimAsync(Guid[] tenantIds, WorkItemKind? kind, IReadOnlyList<ClaimBatches.Claimant> claimants, CancellationToken cancellationToken)
    {
        var skills = await SkillsOfAsync(claimants.Select(c => c.AgentId).Distinct(), cancellationToken);
        var results = new ClaimBatches.Claimed?[claimants.Count];
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var team in Enumerable.Range(0, claimants.Count).GroupBy(i => string.Join('\n', skills.GetValueOrDefault(claimants[i].AgentId, []))))
        {
            var members = team.ToArray();
            var claimed = await ClaimForTeamAsync(
                tenantIds, kind, skills.GetValueOrDefault(claimants[members[0]].AgentId, []), [.. members.Select(i => claimants[i])], now, cancellationToken);
            foreach (var (position, item) in claimed)
            {
                results[members[position]] = item;
            }
        }

        return results;
    }

    /// <summary>An agent's skills in the node's memory cache.</summary>
    private sealed record SkillsKey(Guid AgentId);

    /// <summary>How long a node goes on claiming by an agent's skills as last read.</summary>
    private static readonly TimeSpan SkillsLifetime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The agents' skills, sorted, read at most every <see cref="SkillsLifetime"/> per agent and node: a claim is the
    /// desk's hottest request, and skills change about as often as a person learns a language.
    /// </summary>
    private async Task<Dictionary<Guid, string[]>> SkillsOfAsync(IEnumerable<Guid> agentIds, CancellationToken cancellationToken)
    {
        var skills = new Dictionary<Guid, string[]>();
        var unknown = new List<Guid>();
        foreach (var id in agentIds)
        {
            if (cache.TryGetValue(new SkillsKey(id), out string[]? known))
            {
                skills[id] = known!;
            }
            else
            {
                unknown.Add(id);
            }
        }

        if (unknown.Count > 0)
        {
            var read = await db.Users.AsNoTracking().Where(u => unknown.Contains(u.Id)).Select(u => new { u.Id, u.Skills }).ToListAsync(cancellationToken);
            foreach (var user in read)
            {
                skills[user.Id] = cache.Set(new SkillsKey(user.Id), user.Skills.Order(StringComparer.Ordinal).ToArray(), SkillsLifetime);
            }
        }

        return skills;
    }

    /// <summary>
    /// The claim, its change rows and outbox events (as <see cref="WorkItemTrail.Assigned"/> writes them), and the
    /// answers, in one statement: the hottest path of the desk. It locks as many of the most urgent claimable items as
    /// there are claimants (skipping those other statements hold) and gives the first to the first claimant, and so
    /// on. The queues whose skills the team has are listed once per statement, not looked up for every row the scan passes.
    /// </summary>
    private async Task<List<(int Position, ClaimBatches.Claimed Item)>> ClaimForTeamAsync(
        Guid[] tenantIds, WorkItemKind? kind, string[] skills, ClaimBatches.Claimant[] claimants, DateTime now, CancellationToken cancellationToken)
    {
        var agentIds = claimants.Select(c => c.AgentId).ToArray();
        var actorNames = claimants.Select(c => c.ActorName).ToArray();
        var kindText = kind?.ToString();
        // The count is written into the text (an int, one prepared statement per batch size): a LIMIT parameter
        // would leave a generic plan guessing a tenth of the table instead of walking the claim order's index.
        var statement = $$"""
            WITH claimants AS (
                SELECT a."Agent", a."Name", a."Position" FROM unnest({0}::uuid[], {1}::text[]) WITH ORDINALITY AS a("Agent", "Name", "Position")),
            picked AS (
                SELECT p."Id", row_number() OVER (ORDER BY p."Priority" DESC, p."DueAt", p."CreatedAt", p."Id") AS "Position" FROM (
                    SELECT w."Id", w."Priority", w."DueAt", w."CreatedAt" FROM "WorkItems" w
                    WHERE w."TenantId" = ANY({2}) AND w."Status" = 'Open' AND w."AssigneeId" IS NULL
                      AND ({3}::text IS NULL OR w."Kind" = {3})
                      AND w."QueueId" = ANY (ARRAY(SELECT q."Id" FROM "Queues" q WHERE q."TenantId" = ANY({2}) AND q."RequiredSkills" <@ {4}::text[]))
                    ORDER BY w."Priority" DESC, w."DueAt", w."CreatedAt", w."Id"
                    LIMIT {{claimants.Length}}
                    FOR UPDATE SKIP LOCKED) p),
            claimed AS (
                UPDATE "WorkItems" w SET "AssigneeId" = c."Agent", "Version" = w."Version" + 1, "UpdatedAt" = {5}
                FROM picked p JOIN claimants c ON c."Position" = p."Position"
                WHERE w."Id" = p."Id"
                RETURNING w.*, c."Agent" AS "ClaimedBy", c."Name" AS "ClaimedByName", c."Position" AS "ClaimPosition"),
            changed AS (
                INSERT INTO "WorkItemChanges" ("TenantId", "WorkItemId", "At", "ActorId", "ActorName", "Field", "To")
                SELECT "TenantId", "Id", {5}, "ClaimedBy", "ClaimedByName", 'assignee', "ClaimedBy"::text FROM claimed),
            published AS (
                INSERT INTO "OutboxEvents" ("TenantId", "Type", "PayloadJson", "CreatedAt")
                SELECT "TenantId", 'WorkItemAssigned', json_build_object('Id', "Id", 'AssigneeId', "ClaimedBy")::text, {5} FROM claimed)
            SELECT c."Id", c."TenantId", c."Kind", c."Status", c."Priority", q."Key" AS "QueueKey", c."Subject", c."Channel", c."ExternalId",
                   c."AssigneeId", c."Tags", c."CreatedAt", c."UpdatedAt", c."Version", c."ClaimPosition"
            FROM claimed c JOIN "Queues" q ON q."Id" = c."QueueId"
            """;

        // A raw command rather than SqlQuery: EF Core's query pipeline (expression tree, cache key over the whole text,
        // shaper) cost the app more CPU than reading the rows by hand. The context's interceptors run as for any
        // command (row-level security's tenant setting).
        var command = db.GetService<IRawSqlCommandBuilder>().Build(statement, [agentIds, actorNames, tenantIds, kindText!, skills, now]);
        await using var reader = await command.RelationalCommand.ExecuteReaderAsync(
            new RelationalCommandParameterObject(
                db.GetService<IRelationalConnection>(), command.ParameterValues, null, db,
                db.GetService<IRelationalCommandDiagnosticsLogger>(), CommandSource.FromSqlQuery),
            cancellationToken);
        var row = reader.DbDataReader;
        var claimed = new List<(int, ClaimBatches.Claimed)>(claimants.Length);
        while (await row.ReadAsync(cancellationToken))
        {
            var summary = new WorkItemSummary(
                row.GetGuid(0), row.GetString(2), row.GetString(3), ((WorkItemPriority)row.GetInt32(4)).ToString(), row.GetString(5),
                row.GetString(6), row.GetString(7), row.IsDBNull(8) ? null : row.GetString(8), row.IsDBNull(9) ? null : row.GetGuid(9),
                row.GetFieldValue<string[]>(10), DateTime.SpecifyKind(row.GetDateTime(11), DateTimeKind.Utc),
                DateTime.SpecifyKind(row.GetDateTime(12), DateTimeKind.Utc), row.GetInt32(13));
            claimed.Add(((int)row.GetInt64(14) - 1, new ClaimBatches.Claimed(summary, row.GetGuid(1))));
        }

        return claimed;
    }

    private async Task<ClaimBatches.Claimed?> ClaimOnSqliteAsync(Guid agentId, string? actorName, WorkItemKind? kind, DateTime now, CancellationToken cancellationToken)
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
                return new ClaimBatches.Claimed(summary, candidate.TenantId);
            }
        }

        return null;
    }
}
