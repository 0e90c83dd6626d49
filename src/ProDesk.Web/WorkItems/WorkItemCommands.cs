using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Csat;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;
using ProDesk.Web.Sla;

namespace ProDesk.Web.WorkItems;

/// <summary>An agent's changes to one item: reply, note, status. Each records the change and an outbox event in one save.</summary>
public sealed class WorkItemCommands(ProDeskDbContext db, SlaEngine sla, OutboxRelay relay, ReplyDelivery delivery, OutboundDispatcher dispatcher, TimeProvider clock, CsatRequests csat)
{
    public enum Outcome
    {
        Done,
        NotFound,
        Stale,
        Refused,
        /// <summary>The item is Closed, which is final: it takes no more replies, notes, tags or fields.</summary>
        Closed,
        /// <summary>Others kept saving the item on every attempt: nothing was changed, and the same request may be sent again.</summary>
        Busy,

        /// <summary>A reply by SMS to a number that opted out by texting STOP: nothing was changed (<see cref="Result.Error"/> says why).</summary>
        OptedOut,
    }

    public sealed record Result(Outcome Outcome, WorkItem? Item = null, string? Error = null);

    private const string RepliedEvent = "WorkItemReplied";

    /// <summary>
    /// A public reply. With <paramref name="basedOnVersion"/>, a reply to an item that changed since the
    /// agent loaded it is refused (stale) unless <paramref name="force"/> says the agent confirmed.
    /// </summary>
    /// <param name="idempotencyKey">The caller's Idempotency-Key, kept on the message (<see cref="IdempotentReplies"/>).</param>
    /// <param name="then">
    /// The status the reply leaves the item in ("send and keep open", "send and solve"); null: an Open item waits on the
    /// customer (Pending), any other keeps its status. A holding reply ("we are on it") must not pause the resolution
    /// clock, so the agent chooses (probe round 20). A move the status machine refuses changes nothing.
    /// </param>
    public async Task<Result> ReplyAsync(Guid id, string body, int? basedOnVersion, bool force, ClaimsPrincipal agent, CancellationToken cancellationToken, string? idempotencyKey = null, WorkItemStatus? then = null,
        IReadOnlyList<ReplyFiles.OutboundFile>? files = null)
    {
        // Refused at once, not queued to fail at the gateway: the agent learns now that the customer asked for no more texts.
        if (await db.WorkItems.AsNoTracking().Where(w => w.Id == id).Select(w => new { w.Channel, w.ContactId, w.Status }).FirstOrDefaultAsync(cancellationToken) is { } target
            && target.Status != WorkItemStatus.Closed
            && await delivery.OptedOutNumberAsync(id, target.Channel, target.ContactId, cancellationToken) is { } number)
        {
            return new Result(Outcome.OptedOut, Error: Channels.Sms.SmsOptOuts.OptedOutError(number));
        }

        WorkItemMessage? reply = null;
        return await ChangeAsync(id, basedOnVersion, force, agent, (item, now, _) =>
        {
            if (then is { } asked && asked != item.Status && WorkItemStatusMachine.TryMove(item.Status, asked, out var error) is null)
            {
                return error;
            }

            reply = AddMessage(item, MessageKind.Reply, body, now, agent);
            reply.ExternalId = IdempotentReplies.ExternalId(agent, idempotencyKey);
            // Answering unassigned work takes it, with the trail row and event a claim writes: "Next item" hands out
            // only unassigned items, so the customer's answer would otherwise go to a colleague (probe round 19).
            if (item.AssigneeId is null && reply.AuthorUserId is { } replier)
            {
                item.AssigneeId = replier;
                WorkItemTrail.Assigned(db, item.Id, item.TenantId, replier, replier, agent.FindFirstValue(ProDeskClaims.Email), now);
            }

            return null;
        }, RepliedEvent, cancellationToken, async (item, ct) =>
        {
            var outbound = await delivery.AddAsync(item, reply!, ct, files);
            // A reply waits on the customer now, unless the item is already further along, or the reply cannot reach
            // them (an address the desk cannot mail, one a bounce suppressed, a text that cannot leave): nobody waits on a reply never sent.
            var status = then ?? (item.Status == WorkItemStatus.Open ? WorkItemStatus.Pending : item.Status);
            if (status == WorkItemStatus.Pending && Undeliverable(outbound))
            {
                status = item.Status;
            }

            if (status != item.Status)
            {
                Record(item, reply!.CreatedAt, agent, "status", item.Status.ToString(), status.ToString());
                item.Status = status;
                // "Send and solve" asks for a rating as a solve does, after the reply in the customer's inbox.
                if (status == WorkItemStatus.Solved)
                {
                    await csat.AddAsync(item, ct);
                }
            }

            return outbound;
        });
    }

    // The changes below take the version the caller loaded, when it names one: a change made on a version that is no
    // longer the item's is refused as stale, changing nothing (a colleague's tags, or the customer's new message under
    // a Solved). Without one they apply to the item as it is now, as before (probe round 19).
    public Task<Result> NoteAsync(Guid id, string body, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken) =>
        ChangeAsync(id, basedOnVersion, false, agent, (item, now, _) =>
        {
            AddMessage(item, MessageKind.Note, body, now, agent);
            return null;
        }, "WorkItemNoted", cancellationToken);

    public Task<Result> StatusAsync(Guid id, WorkItemStatus status, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken) =>
        // The status machine answers a move out of Closed itself, naming the moves there are.
        ChangeAsync(id, basedOnVersion, false, agent, (item, now, actor) =>
        {
            // The status it has: done, as setting the tags it has is (a client retrying after a timeout is not wrong).
            if (item.Status == status)
            {
                return NothingChanged;
            }

            if (WorkItemStatusMachine.TryMove(item.Status, status, out var error) is null)
            {
                return error;
            }

            Record(item, now, actor, "status", item.Status.ToString(), status.ToString());
            item.Status = status;
            return null;
        }, "WorkItemUpdated", cancellationToken,
        // A solve asks the customer for a rating; the survey mail is part of this transaction.
        status == WorkItemStatus.Solved ? csat.AddAsync : null, evenWhenClosed: true);

    /// <summary>Sets fields by <paramref name="merge"/>, which is given the item's fields as each attempt finds them.</summary>
    public Task<Result> FieldsAsync(Guid id, Func<string, string> merge, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken) =>
        ChangeAsync(id, basedOnVersion, false, agent, (item, now, actor) =>
        {
            var fieldsJson = merge(item.CustomFieldsJson);
            if (item.CustomFieldsJson == fieldsJson)
            {
                return NothingChanged;
            }

            Record(item, now, actor, "fields", item.CustomFieldsJson, fieldsJson);
            item.CustomFieldsJson = fieldsJson;
            return null;
        }, "WorkItemUpdated", cancellationToken);

    public Task<Result> TagsAsync(Guid id, IReadOnlyList<string> tags, int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken) =>
        ChangeAsync(id, basedOnVersion, false, agent, (item, now, actor) =>
        {
            if (item.Tags.SequenceEqual(tags, StringComparer.Ordinal))
            {
                return NothingChanged;
            }

            Record(item, now, actor, "tags", string.Join(',', item.Tags), string.Join(',', tags));
            item.Tags = [.. tags];
            return null;
        }, "WorkItemUpdated", cancellationToken);

    /// <summary>
    /// Moves the item to another of its tenant's queues, another priority, or both (a billing question that came in
    /// through support). The SLA policy the item arrived with keeps measuring it, as after an escalation raises its
    /// priority: its deadlines and the reports stay with the targets the customer was promised when it came in.
    /// </summary>
    /// <param name="queue">The queue to move to (id and key, for the trail), or null to keep the queue.</param>
    /// <param name="queueKeyOf">The tenant's queues' keys by id, to name the queue moved from.</param>
    public Task<Result> MoveAsync(Guid id, (Guid Id, string Key)? queue, WorkItemPriority? priority, IReadOnlyDictionary<Guid, string> queueKeyOf,
        int? basedOnVersion, ClaimsPrincipal agent, CancellationToken cancellationToken) =>
        ChangeAsync(id, basedOnVersion, false, agent, (item, now, actor) =>
        {
            var moved = false;
            if (queue is { } to && item.QueueId != to.Id)
            {
                Record(item, now, actor, "queue", queueKeyOf.GetValueOrDefault(item.QueueId), to.Key);
                item.QueueId = to.Id;
                moved = true;
            }

            if (priority is { } raised && item.Priority != raised)
            {
                Record(item, now, actor, "priority", item.Priority.ToString(), raised.ToString());
                item.Priority = raised;
                moved = true;
            }

            return moved ? null : NothingChanged;
        }, "WorkItemUpdated", cancellationToken);

    /// <summary>What a change returns when it would set what the item already has.</summary>
    private static readonly string NothingChanged = new('-', 1);

    /// <summary>Saves a change that names no version this many times before calling it stale.</summary>
    private const int Attempts = 10;

    /// <summary>
    /// Applies <paramref name="change"/> to the item as it is now. A change that names no loaded version (or a forced
    /// reply) is not stale when someone else saved the item first: it is applied again on the newer item, so ten agents
    /// noting at once keep ten notes. Only a change made on a version it names can be stale.
    /// </summary>
    private async Task<Result> ChangeAsync(
        Guid id, int? basedOnVersion, bool force, ClaimsPrincipal agent,
        Func<WorkItem, DateTime, ClaimsPrincipal, string?> change, string eventType, CancellationToken cancellationToken,
        Func<WorkItem, CancellationToken, Task<OutboundMessage?>>? send = null, bool evenWhenClosed = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryChangeAsync(id, basedOnVersion, force, agent, change, eventType, send, evenWhenClosed, cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Someone else saved in between: applied again on their version, or the caller sees the newer state.
                db.ChangeTracker.Clear();
                var stale = basedOnVersion is not null && !force;
                if (stale || attempt == Attempts)
                {
                    return new Result(stale ? Outcome.Stale : Outcome.Busy, await db.WorkItems.AsNoTracking().FirstAsync(w => w.Id == id, cancellationToken));
                }

                await Contention.BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    private async Task<Result> TryChangeAsync(
        Guid id, int? basedOnVersion, bool force, ClaimsPrincipal agent,
        Func<WorkItem, DateTime, ClaimsPrincipal, string?> change, string eventType,
        Func<WorkItem, CancellationToken, Task<OutboundMessage?>>? send, bool evenWhenClosed, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (item is null)
        {
            return new Result(Outcome.NotFound);
        }

        // Reports, SLA compliance and billing read a Closed item as final, and a reply would go out on a finished
        // conversation: nothing more goes onto it (the customer's next message starts a follow-up item).
        if (item.Status == WorkItemStatus.Closed && !evenWhenClosed)
        {
            return new Result(Outcome.Closed, item);
        }

        if (basedOnVersion is { } seen && seen != item.Version && !force)
        {
            return new Result(Outcome.Stale, item);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var statusBefore = item.Status;
        if (change(item, now, agent) is { } refusal)
        {
            // Setting what is already there is done, and no change: no new version, trail row or event, so it
            // cannot make a colleague's reply on the version they loaded stale.
            return ReferenceEquals(refusal, NothingChanged) ? new Result(Outcome.Done, item) : new Result(Outcome.Refused, item, refusal);
        }

        // The reply leaves on the item's channel after the commit; its outbound row is part of this transaction.
        var outbound = send is null ? null : await send(item, cancellationToken);
        // A reply that cannot be sent answers nobody: it meets no response target (probe round 18).
        await sla.UpdateAsync(item, new SlaChange(Replied: eventType == RepliedEvent && !Undeliverable(outbound), StatusFrom: statusBefore), now, cancellationToken);

        WorkItemTrail.Updated(db, item, now, eventType);
        await db.SaveChangesAsync(cancellationToken);
        relay.Wake();
        if (outbound is not null)
        {
            dispatcher.Wake();
        }

        return new Result(Outcome.Done, item);
    }

    /// <summary>
    /// Refused before it was sent: the customer's address is one the desk cannot mail, or a bounce suppressed it; a text
    /// with no gateway, no number of the tenant's to send from, or a number that is not E.164.
    /// </summary>
    private static bool Undeliverable(OutboundMessage? outbound) => outbound is { State: OutboundState.Suppressed or OutboundState.Failed };

    private WorkItemMessage AddMessage(WorkItem item, MessageKind kind, string body, DateTime now, ClaimsPrincipal agent) =>
        db.WorkItemMessages.Add(new WorkItemMessage
        {
            Id = Guid.CreateVersion7(),
            WorkItemId = item.Id,
            TenantId = item.TenantId,
            Kind = kind,
            AuthorUserId = Guid.TryParse(agent.FindFirstValue(ProDeskClaims.Subject), out var userId) ? userId : null,
            AuthorName = agent.FindFirstValue(ProDeskClaims.Name),
            Body = body,
            CreatedAt = now,
        }).Entity;

    private void Record(WorkItem item, DateTime now, ClaimsPrincipal actor, string field, string? from, string? to) =>
        WorkItemTrail.Changed(
            db, item.Id, item.TenantId, now,
            Guid.TryParse(actor.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : null,
            actor.FindFirstValue(ProDeskClaims.Email) ?? actor.FindFirstValue(ProDeskClaims.Subject),
            field, from, to);
}
