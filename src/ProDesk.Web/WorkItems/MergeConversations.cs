using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;
using ProDesk.Web.Sla;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Merges one conversation into another (the customer wrote twice about the same thing): the
/// source's messages, attachments and outbound mail move to the target with their own times, so
/// the target's thread reads in order; the source is closed with a note and a "merged-into" trail
/// entry, which threading follows, so a later reply to the source's mail lands in the target. Both
/// items' versions move and both announce WorkItemUpdated. One transaction.
/// </summary>
/// <remarks>
/// The source is closed directly, whatever its status: the status machine's "only a solved item
/// closes" protects a resolution measured by the SLA clock, and a merged duplicate is resolved
/// where its messages went. Its clocks stop as any closed item's do. A closed item is final for
/// reports and billing, so neither side may already be closed.
/// </remarks>
public sealed class MergeConversations(ProDeskDbContext db, SlaEngine sla, OutboxRelay relay, TimeProvider clock)
{
    /// <summary>The trail field on the source that names the target (To); threading follows it.</summary>
    public const string MergedIntoField = "merged-into";

    public const string MergedFromField = "merged-from";

    public sealed record MergeRequest(string? From, int? Version = null);

    public enum Outcome
    {
        Merged,
        NotFound,
        Invalid,
        /// <summary>Others kept saving one of the two on every attempt: nothing was merged, and the same request may be sent again.</summary>
        Busy,
        /// <summary>The target is no longer at the version the caller named: nothing was merged.</summary>
        Stale,
    }

    /// <summary>Tries a merge this many times when one of the two items was saved by someone else meanwhile.</summary>
    private const int Attempts = 10;

    public sealed record Result(Outcome Outcome, WorkItem? Item = null, string? Field = null, string? Error = null);

    /// <summary>
    /// The conversation a closed item was merged into (following merges of merges), or null when it
    /// was not merged. A few hops at most: a chain longer than that is not followed.
    /// </summary>
    public static async Task<WorkItem?> MergedTargetAsync(ProDeskDbContext db, WorkItem item, CancellationToken cancellationToken)
    {
        WorkItem? found = null;
        var current = item;
        for (var hop = 0; hop < 5 && current.Status == WorkItemStatus.Closed; hop++)
        {
            var into = await db.WorkItemChanges.AsNoTracking()
                .Where(c => c.WorkItemId == current.Id && c.Field == MergedIntoField)
                .OrderByDescending(c => c.Id).Select(c => c.To).FirstOrDefaultAsync(cancellationToken);
            if (!Guid.TryParse(into, out var targetId) || await db.WorkItems.FirstOrDefaultAsync(w => w.Id == targetId, cancellationToken) is not { } next)
            {
                break;
            }

            found = current = next;
        }

        return found;
    }

    /// <summary>
    /// A merge that names no version of the target the agent loaded: when either item changed meanwhile it is tried again
    /// on both as they are now (and refused if that makes it invalid, e.g. the source was closed), as the other changes
    /// without a version are. With <paramref name="basedOnVersion"/>, a target that moved on is stale: nothing is merged.
    /// </summary>
    public async Task<Result> HandleAsync(Guid targetId, Guid sourceId, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await TryOnceAsync(targetId, sourceId, basedOnVersion, agent, cancellationToken);
            if (result.Outcome == Outcome.Busy && basedOnVersion is not null)
            {
                // Lost a race: if it was the target that moved on, the caller's version is stale now.
                var target = await db.WorkItems.AsNoTracking().FirstAsync(w => w.Id == targetId, cancellationToken);
                if (target.Version != basedOnVersion)
                {
                    return new Result(Outcome.Stale, target);
                }
            }

            if (result.Outcome != Outcome.Busy || attempt == Attempts)
            {
                return result;
            }

            await Contention.BackOffAsync(attempt, cancellationToken);
        }
    }

    private async Task<Result> TryOnceAsync(Guid targetId, Guid sourceId, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken)
    {
        // Both through the tenant filter: another tenant's item is not found, whichever side it is on.
        var target = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == targetId, cancellationToken);
        var source = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == sourceId, cancellationToken);
        if (target is null || source is null)
        {
            return new Result(Outcome.NotFound);
        }

        if (basedOnVersion is { } seen && seen != target.Version)
        {
            return new Result(Outcome.Stale, target);
        }

        var refusal = (target, source) switch
        {
            _ when target.Id == source.Id => ("from", "is this conversation itself"),
            _ when target.Kind != WorkItemKind.Conversation => ("id", "only conversations can be merged"),
            _ when source.Kind != WorkItemKind.Conversation => ("from", "only conversations can be merged"),
            _ when target.Status == WorkItemStatus.Closed => ("id", "is closed: a closed conversation is final"),
            _ when source.Status == WorkItemStatus.Closed => ("from", "is closed: a closed conversation is final"),
            _ => ((string, string)?)null,
        };
        if (refusal is { } r)
        {
            return new Result(Outcome.Invalid, target, r.Item1, r.Item2);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var actorId = Guid.TryParse(agent.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : (Guid?)null;
        var actorName = agent.FindFirstValue(ProDeskClaims.Email) ?? agent.FindFirstValue(ProDeskClaims.Subject);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // Moved in the database, not loaded: a long thread's bodies need not travel. Before the note below,
        // which stays on the source.
        var moved = await db.WorkItemMessages.Where(m => m.WorkItemId == source.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.WorkItemId, target.Id), cancellationToken);
        await db.WorkItemAttachments.Where(a => a.WorkItemId == source.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.WorkItemId, target.Id), cancellationToken);
        await db.OutboundMessages.Where(o => o.WorkItemId == source.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkItemId, target.Id), cancellationToken);

        var before = source.Status;
        source.Status = WorkItemStatus.Closed;
        WorkItemTrail.Changed(db, source.Id, source.TenantId, now, actorId, actorName, "status", before.ToString(), source.Status.ToString());
        WorkItemTrail.Changed(db, source.Id, source.TenantId, now, actorId, actorName, MergedIntoField, null, target.Id.ToString());
        WorkItemTrail.Changed(db, target.Id, target.TenantId, now, actorId, actorName, MergedFromField, null, source.Id.ToString());
        db.WorkItemMessages.Add(new WorkItemMessage
        {
            Id = Guid.CreateVersion7(),
            WorkItemId = source.Id,
            TenantId = source.TenantId,
            Kind = MessageKind.Note,
            AuthorUserId = actorId,
            AuthorName = agent.FindFirstValue(ProDeskClaims.Name),
            Body = $"Merged into \"{target.Subject}\" ({target.Id}): its {moved} message(s) and attachments are there now.",
            CreatedAt = now,
        });
        // Read before the merge stops the source's clocks: the answer it owes keeps its deadline in the target.
        var owed = await sla.OwedResponseAsync(source, now, cancellationToken);
        await sla.UpdateAsync(source, new SlaChange(StatusFrom: before, Merged: true), now, cancellationToken);
        if (before == WorkItemStatus.Open && target.Status != WorkItemStatus.Open)
        {
            // The desk owed the source an answer: merged into a solved or waiting conversation, that question would drop
            // out of every queue with its clock stopped. The target is open again, as when the customer writes.
            var targetBefore = target.Status;
            target.Status = WorkItemStatus.Open;
            WorkItemTrail.Changed(db, target.Id, target.TenantId, now, actorId, actorName, "status", targetBefore.ToString(), target.Status.ToString());
            await sla.UpdateAsync(target, new SlaChange(CustomerWrote: owed is null, StatusFrom: targetBefore, ResponseOwed: owed), now, cancellationToken);
        }
        else if (owed is not null)
        {
            await sla.UpdateAsync(target, new SlaChange(ResponseOwed: owed), now, cancellationToken);
        }

        foreach (var item in new[] { source, target })
        {
            WorkItemTrail.Updated(db, item, now);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // One of the two changed since it was read: the moves roll back with the rest.
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return new Result(Outcome.Busy, await db.WorkItems.AsNoTracking().FirstAsync(w => w.Id == targetId, cancellationToken));
        }

        relay.Wake();
        return new Result(Outcome.Merged, target);
    }
}

/// <summary>The route of <see cref="MergeConversations"/>, mapped with the other work-item routes.</summary>
public static class MergeConversationsApi
{
    public static void MapMergeConversations(this RouteGroupBuilder tenant) =>
        tenant.MapPost("/work-items/{id:guid}/merge", MergeAsync).RequireAuthorization(WorkItemsApi.StaffPolicy).WithVersionCheck()
            .WithName("MergeConversations")
            .WithSummary("Merges the conversation `from` into this one: its messages and attachments move here with their times, and it is closed with a note." + WorkItemsApi.StaleSummary);

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> MergeAsync(
        Guid id, MergeConversations.MergeRequest request, HttpContext context, MergeConversations merge, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(request.From, out var from))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["is required: the id of the conversation to merge into this one"] });
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        var result = await merge.HandleAsync(id, from, basedOn.Version, user, cancellationToken);
        var queue = result.Item is { } item ? await db.Queues.Where(q => q.Id == item.QueueId).Select(q => q.Key).FirstOrDefaultAsync(cancellationToken) ?? "" : "";
        if (result.Item is { } answered && result.Outcome is MergeConversations.Outcome.Merged or MergeConversations.Outcome.Stale)
        {
            VersionPrecondition.SetETag(context.Response, answered.Version);
        }

        return result.Outcome switch
        {
            MergeConversations.Outcome.Merged => TypedResults.Ok(result.Item!.Summary(queue)),
            MergeConversations.Outcome.Stale => WorkItemsApi.Stale(result.Item!.Summary(queue), basedOn.StaleStatus),
            MergeConversations.Outcome.Busy => WorkItemsApi.Busy(result.Item!.Summary(queue)),
            MergeConversations.Outcome.Invalid => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [result.Field!] = [result.Error!] }),
            _ => TypedResults.NotFound(),
        };
    }
}
