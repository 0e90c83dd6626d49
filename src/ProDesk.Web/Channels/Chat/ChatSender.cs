using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Delivers an agent's reply on a chat item to the visitors of that item (its chat group; with the
/// Redis backplane, on whichever node they are connected to). A visitor who is not connected reads the
/// reply when it comes back (<see cref="ChatHub.Resume"/> loads the history), so sending to an empty
/// group is not a failure.
/// </summary>
public sealed class ChatSender(IChatNotifier chat, IServiceScopeFactory scopes) : IOutboundSender
{
    public IReadOnlyCollection<string> Channels { get; } = ["chat"];

    public async Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken)
    {
        // ReplyDelivery addresses chat replies to the item itself.
        if (!Guid.TryParse(message.To, out var itemId) || itemId != message.WorkItemId)
        {
            throw new PermanentSendFailureException($"a chat reply goes to its own item, not '{message.To}'");
        }

        // The agent's name as the thread shows it; the dispatcher's scope (all tenants, for sending) covers the lookups.
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var author = tenantName;
        if (message.WorkItemMessageId is { } replyId)
        {
            author = await db.WorkItemMessages.AsNoTracking()
                .Where(m => m.Id == replyId && m.TenantId == message.TenantId).Select(m => m.AuthorName).FirstOrDefaultAsync(cancellationToken) ?? tenantName;
        }

        var at = new DateTimeOffset(DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc));
        var view = new ChatMessageView(message.WorkItemMessageId ?? message.Id, "agent", author, message.Body, at);
        foreach (var chatItem in await WithMergedAsync(db, message.TenantId, itemId, cancellationToken))
        {
            await chat.MessageAsync(chatItem, view, cancellationToken);
        }
    }

    /// <summary>
    /// The item and the chats an agent merged into it (and into those, a few hops at most): a visitor still connected to
    /// a merged chat is in that chat's group until it sends again or reloads, and the answer is for it too.
    /// </summary>
    private static async Task<List<Guid>> WithMergedAsync(ProDeskDbContext db, Guid tenantId, Guid itemId, CancellationToken cancellationToken)
    {
        var items = new List<Guid> { itemId };
        var next = new List<Guid> { itemId };
        for (var hop = 0; hop < 5 && next.Count > 0; hop++)
        {
            var sources = await db.WorkItemChanges.AsNoTracking()
                .Where(c => c.TenantId == tenantId && next.Contains(c.WorkItemId) && c.Field == MergeConversations.MergedFromField)
                .Select(c => c.To).ToListAsync(cancellationToken);
            next = [.. sources.Select(s => Guid.TryParse(s, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty && !items.Contains(id))];
            items.AddRange(next);
        }

        return items;
    }
}
