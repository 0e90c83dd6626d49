using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Outbound;

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

        // The agent's name as the thread shows it; the dispatcher's scope (all tenants, for sending) covers the lookup.
        var author = tenantName;
        if (message.WorkItemMessageId is { } replyId)
        {
            await using var scope = scopes.CreateAsyncScope();
            author = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().WorkItemMessages.AsNoTracking()
                .Where(m => m.Id == replyId && m.TenantId == message.TenantId).Select(m => m.AuthorName).FirstOrDefaultAsync(cancellationToken) ?? tenantName;
        }

        var at = new DateTimeOffset(DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc));
        await chat.MessageAsync(itemId, new ChatMessageView(message.WorkItemMessageId ?? message.Id, "agent", author, message.Body, at), cancellationToken);
    }
}
