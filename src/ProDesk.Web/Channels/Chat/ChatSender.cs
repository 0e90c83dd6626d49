using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Outbound;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Delivers an agent's reply on a chat to the visitor session it is addressed to (<see cref="ChatReplyAddress"/>: its
/// group, on whichever node the visitor's connections are, with the Redis backplane). The session's group follows
/// the visitor through merges. A visitor who is not connected reads the reply when it comes back
/// (<see cref="ChatHub.Resume"/> loads the history), so sending to an empty group is not a failure.
/// </summary>
public sealed class ChatSender(IChatNotifier chat, IServiceScopeFactory scopes) : IOutboundSender
{
    public IReadOnlyCollection<string> Channels { get; } = ["chat"];

    public async Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken)
    {
        if (!ChatReplyAddress.TryParse(message.To, out var itemId, out var sessionId) || itemId != message.WorkItemId)
        {
            throw new PermanentSendFailureException($"a chat reply goes to a visitor of its own item, not '{message.To}'");
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
        await chat.MessageToSessionAsync(sessionId, new ChatMessageView(message.WorkItemMessageId ?? message.Id, "agent", author, message.Body, at), cancellationToken);
    }
}
