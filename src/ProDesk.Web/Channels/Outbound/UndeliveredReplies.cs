using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Sla;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Outbound;

/// <summary>
/// Takes back what an agent's reply did once the dispatcher gives it up (refused for good by the gateway or the SMTP
/// server, out of retries, or the address bounced before it left): the reply answered nobody. It had met the response
/// target and set the item Pending, so the report counted an answer the customer never got, and the item left the open
/// queue with its resolution paused for ever (probe round 19). Now the response clock runs on as if the reply had never
/// been written, the item is Open again, and its consoles hear of it. A reply written after this one is left to answer
/// for itself.
/// </summary>
public sealed class UndeliveredReplies(ProDeskDbContext db, SlaEngine sla, TimeProvider clock)
{
    public const string Actor = "delivery";

    /// <summary>Reopens the item of <paramref name="outbound"/>, an agent's reply that was not delivered; saves.</summary>
    public async Task ReopenAsync(OutboundMessage outbound, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await TryReopenAsync(outbound, cancellationToken);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                // An agent saved the item in between: look again at the item as it is now.
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task TryReopenAsync(OutboundMessage outbound, CancellationToken cancellationToken)
    {
        if (outbound.WorkItemMessageId is not { } replyId
            || await db.WorkItemMessages.AsNoTracking().Where(m => m.Id == replyId).Select(m => (DateTime?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken) is not { } repliedAt
            || await db.WorkItemMessages.AnyAsync(m => m.WorkItemId == outbound.WorkItemId && m.Kind == MessageKind.Reply && m.CreatedAt > repliedAt, cancellationToken)
            || await db.WorkItems.FirstOrDefaultAsync(w => w.Id == outbound.WorkItemId, cancellationToken) is not { } item)
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var statusBefore = item.Status;
        // Waiting on the customer because of this reply: nobody waits on a reply never sent. Solved or on hold is the agent's own call.
        if (item.Status == WorkItemStatus.Pending)
        {
            WorkItemTrail.Changed(db, item.Id, item.TenantId, now, null, Actor, "status", item.Status.ToString(), WorkItemStatus.Open.ToString());
            item.Status = WorkItemStatus.Open;
        }

        WorkItemTrail.Changed(db, item.Id, item.TenantId, now, null, Actor, "reply", null, ColumnText.Fit($"not delivered: {outbound.LastError}", 400));
        await sla.UpdateAsync(item, new SlaChange(StatusFrom: statusBefore, ReplyNotDeliveredAt: repliedAt), now, cancellationToken);
        WorkItemTrail.Updated(db, item, now);
        await db.SaveChangesAsync(cancellationToken);
    }
}
