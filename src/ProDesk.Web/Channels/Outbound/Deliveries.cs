using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;

namespace ProDesk.Web.Channels.Outbound;

/// <summary>
/// How each of an item's replies fared on its channel, so an agent sees a reply that never left (the address
/// bounced before, the retries gave up) instead of waiting on a customer who never got it.
/// </summary>
public static class Deliveries
{
    /// <summary>
    /// A reply's delivery: <c>pending</c>, <c>sent</c>, <c>failed</c> or <c>suppressed</c>, why it did not go, the item's files
    /// it carries, and for a text what Twilio last reported (delivered, read, undelivered...; null before it reports).
    /// </summary>
    public sealed record Delivery(string State, string? Error, IReadOnlyList<Guid>? Files = null, string? ProviderStatus = null);

    /// <summary>The deliveries of <paramref name="itemId"/>'s messages, by message id.</summary>
    public static async Task<IReadOnlyDictionary<Guid, Delivery>> OfItemAsync(ProDeskDbContext db, Guid itemId, CancellationToken cancellationToken)
    {
        var rows = await db.OutboundMessages.AsNoTracking()
            .Where(o => o.WorkItemId == itemId && o.WorkItemMessageId != null)
            .OrderBy(o => o.CreatedAt)
            .Select(o => new { Message = o.WorkItemMessageId!.Value, o.State, o.LastError, o.AttachmentsJson, o.ProviderStatus })
            .ToListAsync(cancellationToken);
        var deliveries = new Dictionary<Guid, Delivery>();
        foreach (var row in rows)
        {
            // The latest row of a message is its delivery (a reply is sent once; a later row would be a resend).
            deliveries[row.Message] = new Delivery(
                row.State.ToString().ToLowerInvariant(), row.State is OutboundState.Failed or OutboundState.Suppressed ? row.LastError : null,
                [.. WorkItems.ReplyFiles.Read(row.AttachmentsJson).Select(f => f.Id)], row.ProviderStatus);
        }

        return deliveries;
    }
}
