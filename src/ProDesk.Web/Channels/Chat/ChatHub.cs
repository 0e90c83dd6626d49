using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Chat;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Routing;
using ProDesk.Domain.Tenancy;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// /hubs/chat: the web chat widget's visitor connection, authenticated by the tenant's widget key
/// (<see cref="ChatWidgetAuthenticationHandler"/>), so every call runs in that tenant's scope (the
/// tenant hub filter reads the connection's tenant claim per call). A visitor has no account: what it
/// may see is what its signed <see cref="VisitorToken"/> names, checked on every call against this
/// connection's tenant. Visitors of an item share its <see cref="HubGroups.Chat"/> group, where agents'
/// replies (<see cref="ChatSender"/>) and typing arrive.
/// </summary>
[Authorize(AuthenticationSchemes = ChatWidgetAuthenticationHandler.SchemeName)]
public sealed class ChatHub(
    ChatWidgets widgets, ChatLimits limits, IOptions<ChatOptions> options, ITenantContext tenants, ProDeskDbContext db,
    IngestMessage ingest, IAgentPresence presence, IRealtimeNotifier realtime, ChannelSettingsCache settingsCache, IChatVisitors visitors, TimeProvider clock)
    : Hub<IChatClient>
{
    public const string Path = "/hubs/chat";

    /// <summary>The text of a refused token: the widget forgets it and shows the pre-chat form again.</summary>
    public const string SessionExpired = "Your chat session has ended. Please start again.";

    /// <summary>The start of a refused message's text; the rest says when to try again.</summary>
    public const string TooFast = "You are sending messages too quickly.";

    /// <summary>The start of a refused new conversation's text: the address has opened too many with this client lately.</summary>
    public const string TooManyConversations = "Too many new chats have come from your network.";

    public const string TooManyReads = "Too many requests from your address. Wait a moment and try again.";

    private const int HistoryLimit = 200;
    private static readonly TimeSpan TypingEvery = TimeSpan.FromSeconds(2);

    /// <summary>What the widget shows before a conversation: the chat form when an agent is online, the offline form otherwise.</summary>
    public sealed record ChatStatus(bool AgentsOnline, int MaxMessageLength);

    /// <summary>A visitor's conversation: a fresh token to keep, who it is, the messages so far.</summary>
    public sealed record Conversation(string Token, string Name, string Email, IReadOnlyList<ChatMessageView> Messages, bool AgentsOnline, int MaxMessageLength);

    /// <summary>A stored message: its id, and a fresh token (it names the item the message is in).</summary>
    public sealed record Sent(string Token, Guid MessageId);

    public override async Task OnConnectedAsync()
    {
        // Counted per IP, so one address cannot hold the node's sockets.
        if (!limits.TryOpenConnection(Ip))
        {
            Context.Abort();
            return;
        }

        Context.Items[nameof(ChatLimits)] = Ip;
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(nameof(ChatLimits), out var counted) && counted is string ip)
        {
            limits.CloseConnection(ip);
        }

        foreach (var (sessionId, here) in Sessions())
        {
            if (await visitors.DisconnectedAsync(sessionId, Context.ConnectionId))
            {
                // The visitor's last connection: the agents on the item see it go, as they saw it type.
                await realtime.ItemPresenceAsync(new PresenceEvent(here.Tenant, here.ItemId, Guid.Empty, here.Who, "left"));
            }
        }

        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Where a session this connection joined is: its item, its tenant, how agents see the visitor named.</summary>
    private sealed record SessionHere(Guid ItemId, string Tenant, string Who);

    private Dictionary<Guid, SessionHere> Sessions()
    {
        if (Context.Items.TryGetValue(nameof(SessionHere), out var joined) && joined is Dictionary<Guid, SessionHere> sessions)
        {
            return sessions;
        }

        sessions = [];
        Context.Items[nameof(SessionHere)] = sessions;
        return sessions;
    }

    /// <summary>
    /// This connection hears the replies on the session's item from now on (a reply is addressed to the session's group),
    /// and the session counts as here: a reply is mailed only to a visitor with no such connection left (ReplyDelivery).
    /// </summary>
    private async Task JoinAsync(Guid itemId, VisitorSession session, ChatWidget widget)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Chat(itemId));
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.ChatSession(session.SessionId));
        Sessions()[session.SessionId] = new SessionHere(itemId, widget.Tenant.Slug, Who(session));
        await visitors.ConnectedAsync(session.SessionId, Context.ConnectionId);
    }

    // Named as the visitor, never as a bare name: a visitor may call itself after an agent of the desk.
    private static string Who(VisitorSession session) => session.Name.Length > 0 ? $"{session.Name} (visitor)" : $"{session.Email} (visitor)";

    public async Task<ChatStatus> Status()
    {
        var widget = await WidgetAsync();
        Read();
        return new ChatStatus(await AgentsOnlineAsync(widget), options.Value.MaxMessageLength);
    }

    /// <summary>The pre-chat form: who the visitor is. Nothing is stored (nor counted as a conversation) until its first message.</summary>
    public async Task<Conversation> Start(string name, string email)
    {
        var widget = await WidgetAsync();
        Read();
        var (cleanName, cleanEmail) = await VisitorAsync(name, email);
        var session = new VisitorSession(widget.Tenant.Id, Guid.NewGuid(), null, cleanName, cleanEmail, clock.GetUtcNow());
        return new Conversation(VisitorToken.Create(session, widget.TokenKey), cleanName, cleanEmail, [], await AgentsOnlineAsync(widget), options.Value.MaxMessageLength);
    }

    /// <summary>A reload or a reconnect: the conversation so far, and live messages from here on.</summary>
    public async Task<Conversation> Resume(string token)
    {
        var (widget, session) = await SessionAsync(token);
        Read();
        IReadOnlyList<ChatMessageView> messages = [];
        if (session.ItemId is { } named)
        {
            if (await OpenItemAsync(named) is not { } itemId)
            {
                // Closed (or gone): the next message starts a new conversation, so the widget starts empty.
                session = session with { ItemId = null };
            }
            else
            {
                // An agent may have merged this chat into another conversation: the visitor's messages and the replies are there.
                session = session with { ItemId = itemId };
                messages = await HistoryAsync(itemId, session.SessionId);
                await JoinAsync(itemId, session, widget);
            }
        }

        return new Conversation(Renew(session, widget), session.Name, session.Email, messages, await AgentsOnlineAsync(widget), options.Value.MaxMessageLength);
    }

    /// <summary>
    /// A visitor's message, through the one ingestion path: the first creates the conversation, later ones
    /// thread into the item the token names (a new one once that is closed). <paramref name="clientMessageId"/>
    /// is the widget's id of the message, so a retry after a lost answer stores it once.
    /// </summary>
    public async Task<Sent> Send(string token, string clientMessageId, string text)
    {
        var (widget, session) = await SessionAsync(token);
        var body = Body(text, clientMessageId);
        // A new conversation is counted when a message opens it, not when the form is filled in: the pre-chat
        // token (or one naming a closed conversation) is the visitor's to keep, and each message sent with it alone opens another.
        var opens = session.ItemId is not { } current || await OpenItemAsync(current) is null;
        RefuseOverLimit(widget, opens);

        // The session id namespaces the widget's ids: one visitor can never name another's message.
        var inbound = new InboundMessage(Channel, $"{session.SessionId:N}/{clientMessageId}", session.Email, session.Name, SubjectOf(body), body)
        {
            ThreadItemId = session.ItemId,
        };
        // Not cancelled by a disconnect: the visitor sent it, and a retry finds it stored.
        var result = await ingest.HandleAsync(inbound, CancellationToken.None);
        // A retried message answers as stored, but the session stays on its current conversation: the item that
        // first took the message may be closed by now, and naming it would open yet another conversation.
        var itemId = result.Duplicate && session.ItemId is { } sessionItem ? sessionItem : result.Item.Id;
        if (session.ItemId != itemId)
        {
            if (session.ItemId is { } closed)
            {
                await Groups.RemoveFromGroupAsync(Context.ConnectionId, HubGroups.Chat(closed));
            }

            await JoinAsync(itemId, session, widget);
        }

        var message = result.Message ?? throw new InvalidOperationException("Ingestion returned no message.");
        RefuseReusedId(result, body);
        if (!result.Duplicate)
        {
            // The visitor's other tabs: its session's, never another visitor's whose chat an agent merged into this one.
            await Clients.OthersInGroup(HubGroups.ChatSession(session.SessionId)).Message(View(message));
        }

        return new Sent(Renew(session with { ItemId = itemId }, widget), message.Id);
    }

    /// <summary>
    /// Takes the message, and the new conversation it opens, from the allowances; a refusal says which ran out and when
    /// to try again. Visitors behind one shared address (an office, a mobile carrier) were told "too quickly" with no
    /// time for a first message, and the offline form the same (probe round 19). The message allowance is taken first,
    /// so a refused call does not use up the scarcer allowance of new conversations.
    /// </summary>
    private void RefuseOverLimit(ChatWidget widget, bool opensConversation)
    {
        if (!limits.TryMessage(Ip, widget.Tenant.Id, out var wait))
        {
            throw new HubException($"{TooFast} Try again in {Wait(wait)}.");
        }

        if (opensConversation && !limits.TryConversation(Ip, widget.Tenant.Id, out wait))
        {
            throw new HubException($"{TooManyConversations} Try again in {Wait(wait)}, or write to us by email.");
        }

        static string Wait(TimeSpan wait) => wait < TimeSpan.FromSeconds(90)
            ? $"{Math.Ceiling(wait.TotalSeconds):0} seconds"
            : $"{Math.Ceiling(wait.TotalMinutes):0} minutes";
    }

    /// <summary>The visitor is typing: agents watching its item see it (at most every 2 s per connection).</summary>
    public async Task Typing(string token)
    {
        var (widget, session) = await SessionAsync(token);
        var now = clock.GetUtcNow();
        if (session.ItemId is not { } itemId
            || (Context.Items.TryGetValue(nameof(Typing), out var last) && last is DateTimeOffset at && now - at < TypingEvery))
        {
            return;
        }

        Context.Items[nameof(Typing)] = now;
        await realtime.ItemPresenceAsync(new PresenceEvent(widget.Tenant.Slug, itemId, Guid.Empty, Who(session), "typing"));
    }

    /// <summary>
    /// The offline form (no agent online): a conversation on the web form channel, so the reply goes by
    /// email to the address given; the visitor does not wait in the widget for it.
    /// </summary>
    public async Task LeaveMessage(string name, string email, string clientMessageId, string text)
    {
        var widget = await WidgetAsync();
        var (cleanName, cleanEmail) = await VisitorAsync(name, email);
        var body = Body(text, clientMessageId);
        RefuseOverLimit(widget, opensConversation: true);

        var result = await ingest.HandleAsync(
            new InboundMessage("webform", $"chat-offline/{cleanEmail}/{clientMessageId}", cleanEmail, cleanName, SubjectOf(body), body), CancellationToken.None);
        RefuseReusedId(result, body);
    }

    /// <summary>
    /// A message id names one message: a retry of it is answered as stored, but other words under the same id would be
    /// answered "sent" and never stored, so they are refused.
    /// </summary>
    private static void RefuseReusedId(IngestMessage.Result result, string body)
    {
        if (result.Duplicate && result.Message is { } stored && stored.Body != body)
        {
            throw new HubException("This message id was already used for another message. Send it as a new message.");
        }
    }

    /// <summary>Counts a read against the IP's allowance; refuses the call when it is used up.</summary>
    private void Read()
    {
        if (!limits.TryRead(Ip))
        {
            throw new HubException(TooManyReads);
        }
    }

    /// <summary>
    /// The item that takes the messages of the chat a visitor's token names: that item while it is not closed, else the
    /// open conversation an agent merged it into (as ingestion threads them); null when there is none.
    /// </summary>
    private async Task<Guid?> OpenItemAsync(Guid itemId)
    {
        var item = await db.WorkItems.AsNoTracking().FirstOrDefaultAsync(w => w.Id == itemId, Context.ConnectionAborted);
        if (item is { Status: WorkItemStatus.Closed })
        {
            item = await MergeConversations.MergedTargetAsync(db, item, Context.ConnectionAborted);
        }

        return item is { Status: not WorkItemStatus.Closed } ? item.Id : null;
    }

    // An IPv6 client by its /64, as the web form counts it.
    private string Ip => ClientAddress.Key(Context.GetHttpContext()?.Connection.RemoteIpAddress);

    /// <summary>This connection's widget: its tenant is the call's scope (from the connection's claim), still active.</summary>
    private async Task<ChatWidget> WidgetAsync()
    {
        if (Context.User?.HasClaim(c => c.Type == ChatWidgetAuthenticationHandler.VisitorClaim) != true
            || tenants.Current is not { Status: TenantStatus.Active } tenant
            || await widgets.OfAsync(tenant, Context.ConnectionAborted) is not { } widget)
        {
            throw new HubException("Chat is not available.");
        }

        return widget;
    }

    private async Task<(ChatWidget Widget, VisitorSession Session)> SessionAsync(string? token)
    {
        var widget = await WidgetAsync();
        // Signed with this tenant's key and naming this tenant: another tenant's token fails either check.
        if (!VisitorToken.TryRead(token, widget.TokenKey, clock.GetUtcNow(), out var session) || session is null || session.TenantId != widget.Tenant.Id)
        {
            throw new HubException(SessionExpired);
        }

        return (widget, session);
    }

    private string Renew(VisitorSession session, ChatWidget widget) => VisitorToken.Create(session with { IssuedAt = clock.GetUtcNow() }, widget.TokenKey);

    private async Task<bool> AgentsOnlineAsync(ChatWidget widget) =>
        (await presence.OfAsync([widget.Tenant.Id], Context.ConnectionAborted)).Any(a => a.Status == AgentStatus.Online);

    /// <summary>
    /// What was said in this chat: the visitor's messages of this session, and the replies that went out on the chat
    /// channel. Never internal notes, and never the rest of the item: an agent may merge another conversation into
    /// it (or it into another), and the visitor's email address is not verified, so the token must not show a thread
    /// its holder was not part of.
    /// </summary>
    private async Task<IReadOnlyList<ChatMessageView>> HistoryAsync(Guid itemId, Guid sessionId)
    {
        // The session's own messages and the replies addressed to it (ChatReplyAddress), never the rest of a merged item.
        var own = ChatReplyAddress.KeyOf(sessionId);
        var answered = ChatReplyAddress.EndingOf(sessionId);
        var messages = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == itemId
                && ((m.Kind == MessageKind.Inbound && m.ExternalId != null && m.ExternalId.StartsWith(own))
                    || (m.Kind == MessageKind.Reply && db.OutboundMessages.Any(o => o.WorkItemMessageId == m.Id && o.Channel == Channel && o.To.EndsWith(answered)))))
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(HistoryLimit)
            .ToListAsync(Context.ConnectionAborted);
        messages.Reverse();
        return messages.Select(View).ToList();
    }

    private const string Channel = "chat";


    private static ChatMessageView View(WorkItemMessage m) =>
        new(m.Id, m.Kind == MessageKind.Inbound ? "visitor" : "agent", m.AuthorName ?? "", m.Body, new DateTimeOffset(DateTime.SpecifyKind(m.CreatedAt, DateTimeKind.Utc)));

    private async Task<(string Name, string Email)> VisitorAsync(string? name, string? email)
    {
        var visitor = Visitor(name, email);
        // A desk's own address (any tenant's) would have the desk mail itself, or another client's desk (ChannelSettingsCache).
        return await settingsCache.IsDeskAddressAsync(visitor.Email, Context.ConnectionAborted)
            ? throw new HubException("That is a help desk's own address: enter yours, so the answer reaches you.")
            : visitor;
    }

    private static (string Name, string Email) Visitor(string? name, string? email)
    {
        // As the web form and SMS take names: control and bidi characters dropped, not refused.
        var cleanName = string.Join(' ', PlainText.Line(name).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var cleanEmail = (email ?? "").Trim();
        if (cleanEmail.Length > VisitorToken.MaxEmailLength || ReplyAddress.Normalize(cleanEmail) is not { } address)
        {
            throw new HubException("Enter a valid email address, so we can reach you.");
        }

        if (cleanName.Length > VisitorToken.MaxNameLength)
        {
            throw new HubException($"Your name can be at most {VisitorToken.MaxNameLength} characters.");
        }

        return (cleanName, address);
    }

    private string Body(string? text, string? clientMessageId)
    {
        if (string.IsNullOrEmpty(clientMessageId) || clientMessageId.Length > 64 || !clientMessageId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new HubException("Invalid message id.");
        }

        var body = PlainText.Body(text);
        if (PlainText.IsBlank(body))
        {
            throw new HubException("Write a message first.");
        }

        var max = options.Value.MaxMessageLength;
        return body.Length <= max ? body : throw new HubException($"A message can be at most {max} characters.");
    }

    /// <summary>The first line, shortened: what the agent's queue shows (as SMS and the web form make theirs).</summary>
    private static string SubjectOf(string body) => SubjectLine.FromBody(body, "Chat");
}
