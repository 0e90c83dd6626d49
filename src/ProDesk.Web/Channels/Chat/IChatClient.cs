namespace ProDesk.Web.Channels.Chat;

/// <summary>One message of a chat as the visitor's widget shows it. From: "visitor" or "agent".</summary>
public sealed record ChatMessageView(Guid Id, string From, string Name, string Body, DateTimeOffset At);

/// <summary>Someone on the other side is typing (an agent, for the visitor).</summary>
public sealed record ChatTypingView(string Name);

/// <summary>The server-to-client events of /hubs/chat.</summary>
public interface IChatClient
{
    /// <summary>A new message on the visitor's conversation: an agent's reply, or the visitor's own from another tab.</summary>
    Task Message(ChatMessageView message);

    Task Typing(ChatTypingView typing);
}

/// <summary>How the rest of the app reaches chat visitors; nothing else talks to the chat hub's context.</summary>
public interface IChatNotifier
{
    /// <summary>To the connections of one visitor session (an agent's reply is addressed to one).</summary>
    Task MessageToSessionAsync(Guid sessionId, ChatMessageView message, CancellationToken cancellationToken = default);

    Task TypingAsync(Guid itemId, string name, CancellationToken cancellationToken = default);
}

internal sealed class SignalRChatNotifier(Microsoft.AspNetCore.SignalR.IHubContext<ChatHub, IChatClient> hub) : IChatNotifier
{
    public Task MessageToSessionAsync(Guid sessionId, ChatMessageView message, CancellationToken cancellationToken = default) =>
        hub.Clients.Group(Realtime.HubGroups.ChatSession(sessionId)).Message(message);

    public Task TypingAsync(Guid itemId, string name, CancellationToken cancellationToken = default) =>
        hub.Clients.Group(Realtime.HubGroups.Chat(itemId)).Typing(new ChatTypingView(name));
}
