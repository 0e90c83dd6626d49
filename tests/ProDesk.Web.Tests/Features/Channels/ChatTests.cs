using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// The web chat channel through its hub, as the widget uses it: the widget key opens the connection,
/// the visitor token names what the visitor may see, messages become one conversation in the
/// tenant, and agents' replies and typing come back live.
/// </summary>
public sealed class ChatTests(ProDeskApp app) : PostgresTest(app)
{
    /// <summary>A widget's connection, with what the server pushed to it.</summary>
    private sealed class Visitor(HubConnection connection) : IAsyncDisposable
    {
        public HubConnection Connection { get; } = connection;

        public Channel<ChatMessageView> Messages { get; } = Channel.CreateUnbounded<ChatMessageView>();

        public Channel<ChatTypingView> Typing { get; } = Channel.CreateUnbounded<ChatTypingView>();

        public Task<ChatHub.Conversation> StartAsync(string name = "Ada Visitor", string email = "ada@example.org") =>
            Connection.InvokeAsync<ChatHub.Conversation>("Start", name, email);

        public Task<ChatHub.Sent> SendAsync(string token, string text, string? id = null) =>
            Connection.InvokeAsync<ChatHub.Sent>("Send", token, id ?? Guid.NewGuid().ToString("N"), text);

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    private static string WidgetKey(string slug) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, slug, "channels.json"))).RootElement.GetProperty("widgetKey").GetString()!;

    /// <summary>Each test's visitors come from an address of their own, so the per-IP limits of one test never meet another's.</summary>
    private readonly IPAddress _ip = new([10, (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(1, 255)]);

    private HttpMessageHandler Handler(WebApplicationFactory<Program>? host = null) =>
        (host ?? App).Server.CreateHandler(context => context.Connection.RemoteIpAddress = _ip);

    private async Task<Visitor> ConnectAsync(string slug, string? key = null, WebApplicationFactory<Program>? host = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri((host ?? App).Server.BaseAddress, $"hubs/chat?tenant={slug}&key={Uri.EscapeDataString(key ?? WidgetKey(slug))}"), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => Handler(host);
            })
            .Build();
        var visitor = new Visitor(connection);
        connection.On<ChatMessageView>(nameof(IChatClient.Message), m => visitor.Messages.Writer.TryWrite(m));
        connection.On<ChatTypingView>(nameof(IChatClient.Typing), t => visitor.Typing.Writer.TryWrite(t));
        await connection.StartAsync();
        return visitor;
    }

    private static async Task<T> NextAsync<T>(Channel<T> channel) =>
        await channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    private async Task<JsonElement> ItemAsync(string slug, Guid id) =>
        await (await App.IntegrationClientAsync(slug)).JsonAsync($"/api/v1/tenants/{slug}/work-items/{id}");

    private async Task<Guid> ItemIdOfAsync(Guid messageId) =>
        await App.InTenantAsync("acme", db => db.WorkItemMessages.Where(m => m.Id == messageId).Select(m => m.WorkItemId).SingleAsync());

    private async Task SendDueAsync() => await App.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

    [Fact]
    public async Task A_wrong_key_another_tenants_key_or_an_unknown_tenant_is_refused_before_connecting()
    {
        foreach (var (slug, key) in new[] { ("acme", "not-the-widget-key"), ("acme", WidgetKey("northwind")), ("globex", WidgetKey("acme")), ("acme", "") })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(slug, key));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await using var visitor = await ConnectAsync("acme");
        Assert.Equal(HubConnectionState.Connected, visitor.Connection.State);
    }

    [Fact]
    public async Task A_visitors_messages_become_one_conversation_in_the_widgets_tenant()
    {
        await using var visitor = await ConnectAsync("acme");
        var started = await visitor.StartAsync();

        var first = await visitor.SendAsync(started.Token, "My boiler is leaking\nsince this morning.", "m-1");
        var second = await visitor.SendAsync(first.Token, "Are you there?", "m-2");
        // The widget retries a message whose answer it lost: stored once.
        var again = await visitor.SendAsync(second.Token, "Are you there?", "m-2");

        Assert.Equal(second.MessageId, again.MessageId);
        var itemId = await ItemIdOfAsync(first.MessageId);
        var item = await ItemAsync("acme", itemId);
        Assert.Equal(("My boiler is leaking", "chat", "Open"), (item.GetProperty("item").GetProperty("subject").GetString(), item.GetProperty("item").GetProperty("channel").GetString(), item.GetProperty("item").GetProperty("status").GetString()));
        Assert.Equal(["My boiler is leaking\nsince this morning.", "Are you there?"], item.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("body").GetString()));
        Assert.All(item.GetProperty("messages").EnumerateArray(), m => Assert.Equal("Ada Visitor", m.GetProperty("author").GetString()));
        Assert.Equal(0, await App.InTenantAsync("northwind", db => db.WorkItems.CountAsync(w => w.Channel == "chat")));
        Assert.Equal("ada@example.org", await App.InTenantAsync("acme", db => db.Contacts.Where(c => c.Id == db.WorkItems.Single(w => w.Id == itemId).ContactId).Select(c => c.Email).SingleAsync()));
    }

    [Fact]
    public async Task The_same_email_in_a_new_session_starts_its_own_conversation_and_cannot_read_the_first()
    {
        await using var owner = await ConnectAsync("acme");
        var ownerSent = await owner.SendAsync((await owner.StartAsync()).Token, "My account number is 4711");

        // Anyone can type anyone's address into a pre-chat form.
        await using var other = await ConnectAsync("acme");
        var otherStart = await other.StartAsync();
        Assert.Empty(otherStart.Messages);
        var otherSent = await other.SendAsync(otherStart.Token, "Hello");

        Assert.NotEqual(await ItemIdOfAsync(ownerSent.MessageId), await ItemIdOfAsync(otherSent.MessageId));
        var resumed = await other.Connection.InvokeAsync<ChatHub.Conversation>("Resume", otherSent.Token);
        Assert.Equal(["Hello"], resumed.Messages.Select(m => m.Body));
    }

    [Fact]
    public async Task A_visitor_token_of_one_tenant_is_refused_on_another_tenants_connection_and_a_forged_one_everywhere()
    {
        await using var acme = await ConnectAsync("acme");
        var sent = await acme.SendAsync((await acme.StartAsync()).Token, "Secret question");
        await using var northwind = await ConnectAsync("northwind");

        foreach (var call in new Func<Task>[]
        {
            () => northwind.Connection.InvokeAsync<ChatHub.Conversation>("Resume", sent.Token),
            () => northwind.SendAsync(sent.Token, "Into your tenant"),
            () => northwind.Connection.InvokeAsync("Typing", sent.Token),
            () => acme.Connection.InvokeAsync<ChatHub.Conversation>("Resume", sent.Token[..^2] + (sent.Token[^2] == 'A' ? "B" : "A") + sent.Token[^1]),
        })
        {
            var refused = await Assert.ThrowsAsync<HubException>(call);
            Assert.Contains(ChatHub.SessionExpired, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await App.InTenantAsync("northwind", db => db.WorkItems.CountAsync(w => w.Channel == "chat")));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));
    }

    [Fact]
    public async Task An_agents_reply_reaches_the_visitor_live_and_a_reload_shows_the_conversation_without_notes()
    {
        await using var visitor = await ConnectAsync("acme");
        var sent = await visitor.SendAsync((await visitor.StartAsync()).Token, "Where is my parcel?");
        var itemId = await ItemIdOfAsync(sent.MessageId);
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/notes", new { body = "Customer sounds annoyed" })).EnsureSuccessStatusCode();
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "It left our depot this morning." })).EnsureSuccessStatusCode();
        await SendDueAsync();

        var reply = await NextAsync(visitor.Messages);
        Assert.Equal(("agent", "Alex Martin", "It left our depot this morning."), (reply.From, reply.Name, reply.Body));
        Assert.Equal(OutboundState.Sent, await App.InTenantAsync("acme", db => db.OutboundMessages.Select(o => o.State).SingleAsync()));

        // A reload: a new connection with the stored token.
        await using var reloaded = await ConnectAsync("acme");
        var resumed = await reloaded.Connection.InvokeAsync<ChatHub.Conversation>("Resume", sent.Token);
        Assert.Equal([("visitor", "Where is my parcel?"), ("agent", "It left our depot this morning.")], resumed.Messages.Select(m => (m.From, m.Body)));
        Assert.Equal(("Ada Visitor", "ada@example.org"), (resumed.Name, resumed.Email));

        // The resumed connection gets the next reply live too.
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Anything else?" })).EnsureSuccessStatusCode();
        await SendDueAsync();
        Assert.Equal("Anything else?", (await NextAsync(reloaded.Messages)).Body);
    }

    /// <summary>Closes the visitor's connection and waits until the agent watching the item is told it left (its last connection).</summary>
    private async Task LeaveAsync(Visitor visitor, Guid itemId)
    {
        var presence = Channel.CreateUnbounded<PresenceEvent>();
        await using var agent = await App.AgentHubAsync("agent1@prodesk.test", c => c.On<PresenceEvent>(nameof(IAgentClient.PresenceChanged), p => presence.Writer.TryWrite(p)));
        await agent.InvokeAsync("Watch", "acme", itemId);
        await visitor.DisposeAsync();
        PresenceEvent left;
        do
        {
            left = await NextAsync(presence);
        }
        while (left.What != "left");
        Assert.Equal(("Ada Visitor (visitor)", itemId), (left.Name, left.ItemId));
    }

    [Fact]
    public async Task A_reply_to_a_visitor_who_left_is_mailed_from_the_tenant_with_the_items_reply_token_and_their_answer_threads_back()
    {
        var visitor = await ConnectAsync("acme");
        var sent = await visitor.SendAsync((await visitor.StartAsync()).Token, "Where is my parcel?");
        var itemId = await ItemIdOfAsync(sent.MessageId);
        await LeaveAsync(visitor, itemId);

        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "It left our depot this morning." })).EnsureSuccessStatusCode();
        await SendDueAsync();

        var rows = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().OrderBy(o => o.CreatedAt).ToListAsync());
        Assert.Equal([("chat", OutboundState.Sent), ("email", OutboundState.Sent)], rows.Select(o => (o.Channel, o.State)));
        var mail = rows[1];
        Assert.Equal(("ada@example.org", "Re: Where is my parcel?"), (mail.To, mail.Subject));
        var eml = await MimeKit.MimeMessage.LoadAsync(Path.Combine(App.DataDirectory, "mail-outbox", $"{mail.Id:N}.eml"));
        Assert.Equal("support@acme.test", eml.From.Mailboxes.Single().Address);
        Assert.StartsWith(ReplyDelivery.ContinuesChat, eml.TextBody, StringComparison.Ordinal);
        Assert.Contains("It left our depot this morning.", eml.TextBody, StringComparison.Ordinal);
        var replyTo = eml.ReplyTo.Mailboxes.Single().Address;
        Assert.StartsWith("support+", replyTo, StringComparison.Ordinal);
        // The item's thread shows where the reply went.
        Assert.Equal("sent", (await ItemAsync("acme", itemId)).GetProperty("messages").EnumerateArray().Last().GetProperty("delivery").GetString());

        // Their answer, to the reply-token address, goes on in the same item.
        var answer = new MimeKit.MimeMessage { Subject = "Re: Where is my parcel?", MessageId = $"{Guid.NewGuid():N}@example.org" };
        answer.From.Add(new MimeKit.MailboxAddress("Ada Visitor", "ada@example.org"));
        answer.To.Add(MimeKit.MailboxAddress.Parse(replyTo));
        answer.Body = new MimeKit.TextPart("plain") { Text = "Thanks, and when will it arrive?" };
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(answer.ToString()));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(ProDesk.Web.Channels.Email.EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).EnsureSuccessStatusCode();
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
        Assert.True(await App.InTenantAsync("acme", db => db.WorkItemMessages.AnyAsync(m => m.WorkItemId == itemId && m.Body.StartsWith("Thanks, and when will it arrive?"))));
    }

    [Fact]
    public async Task A_visitor_still_connected_gets_the_reply_live_only()
    {
        await using var visitor = await ConnectAsync("acme");
        var sent = await visitor.SendAsync((await visitor.StartAsync()).Token, "Where is my parcel?");
        var itemId = await ItemIdOfAsync(sent.MessageId);
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "On its way." })).EnsureSuccessStatusCode();
        await SendDueAsync();

        Assert.Equal("On its way.", (await NextAsync(visitor.Messages)).Body);
        Assert.Equal(["chat"], await App.InTenantAsync("acme", db => db.OutboundMessages.Select(o => o.Channel).ToListAsync()));
    }

    [Fact]
    public async Task A_visitor_who_left_without_an_address_to_mail_keeps_the_reply_in_the_chat_and_the_console_says_they_cannot_be_reached()
    {
        var visitor = await ConnectAsync("acme");
        var token = (await visitor.StartAsync()).Token;
        var sent = await visitor.SendAsync(token, "Where is my parcel?");
        var itemId = await ItemIdOfAsync(sent.MessageId);
        await LeaveAsync(visitor, itemId);
        // The widget asks for an address the desk can mail; one it cannot (as a merged or edited record may leave) is the same as none.
        await App.InTenantAsync("acme", db => db.WorkItemMessages.Where(m => m.Id == sent.MessageId).ExecuteUpdateAsync(u => u.SetProperty(m => m.FromAddress, "ada")));

        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "It left our depot this morning." })).EnsureSuccessStatusCode();
        await SendDueAsync();

        var row = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync());
        Assert.Equal(("chat", OutboundState.Failed), (row.Channel, row.State));
        // Staff see why a reply did not go (a client's system sees only that it did not).
        var reply = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{itemId}")).GetProperty("messages").EnumerateArray().Last();
        Assert.Equal(("failed", ReplyDelivery.VisitorLeftUnreachable), (reply.GetProperty("delivery").GetString(), reply.GetProperty("deliveryError").GetString()));
        var page = await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}");
        Assert.Contains("The visitor has left the chat and cannot be reached", page, StringComparison.Ordinal);

        // They come back: the reply is there.
        await using var back = await ConnectAsync("acme");
        var resumed = await back.Connection.InvokeAsync<ChatHub.Conversation>("Resume", sent.Token);
        Assert.Equal("It left our depot this morning.", resumed.Messages[^1].Body);
    }

    [Fact]
    public async Task A_merge_never_lets_a_chat_token_read_someone_elses_conversation()
    {
        // Someone else's ticket, answered by mail; a visitor who gives that person's (unverified) address in the widget.
        var integration = await App.IntegrationClientAsync("acme");
        var ticket = (await (await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "victor@example.org", subject = "Invoice dispute", body = "My IBAN is FR76 3000 6000 0112", externalId = "merge-leak-1" }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{ticket}/replies", new { body = "Refund approved to your IBAN." })).EnsureSuccessStatusCode();

        await using var visitor = await ConnectAsync("acme");
        var sent = await visitor.SendAsync((await visitor.StartAsync("Victor", "victor@example.org")).Token, "Please attach my earlier ticket");
        var chat = await ItemIdOfAsync(sent.MessageId);

        // The ticket merged into the chat: the widget still shows only what was said in the chat.
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{chat}/merge", new { from = ticket })).EnsureSuccessStatusCode();
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{chat}/replies", new { body = "Done." })).EnsureSuccessStatusCode();
        var resumed = await visitor.Connection.InvokeAsync<ChatHub.Conversation>("Resume", sent.Token);
        Assert.Equal([("visitor", "Please attach my earlier ticket"), ("agent", "Done.")], resumed.Messages.Select(m => (m.From, m.Body)));

        // And the other way: the visitor's chat merged into another ticket, which its next message follows.
        var other = (await (await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "victor@example.org", subject = "Account", body = "My date of birth is 1980-02-03", externalId = "merge-leak-2" }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{other}/merge", new { from = chat })).EnsureSuccessStatusCode();
        var next = await visitor.SendAsync(sent.Token, "Anything new?");
        Assert.Equal(other, await ItemIdOfAsync(next.MessageId));
        var after = await visitor.Connection.InvokeAsync<ChatHub.Conversation>("Resume", next.Token);
        Assert.DoesNotContain(after.Messages, m => m.Body.Contains("1980") || m.Body.Contains("IBAN") || m.Body.Contains("Refund"));
        Assert.Contains(after.Messages, m => m.Body == "Anything new?");
    }

    [Fact]
    public async Task Chats_merged_on_an_unverified_email_show_each_visitor_only_their_own_part_and_the_answers_to_it()
    {
        // Bob chats and is answered; someone else types Bob's address into the widget, and an agent merges the two chats
        // as one customer's (probe round 17: the other visitor then read Bob's answers, live and on a reload).
        await using var bob = await ConnectAsync("acme");
        var bobs = await bob.SendAsync((await bob.StartAsync("Bob", "bob@example.com")).Token, "I forgot my password");
        var kept = await ItemIdOfAsync(bobs.MessageId);
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{kept}/replies", new { body = "Your reset code is 4711." })).EnsureSuccessStatusCode();
        await SendDueAsync();
        Assert.Equal("Your reset code is 4711.", (await NextAsync(bob.Messages)).Body);

        await using var other = await ConnectAsync("acme");
        var others = await other.SendAsync((await other.StartAsync("Bob", "bob@example.com")).Token, "Any news on my account?");
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{kept}/merge", new { from = await ItemIdOfAsync(others.MessageId) })).EnsureSuccessStatusCode();
        var reloaded = await other.Connection.InvokeAsync<ChatHub.Conversation>("Resume", others.Token);
        Assert.Equal([("visitor", "Any news on my account?")], reloaded.Messages.Select(m => (m.From, m.Body)));

        // A reply answers whoever wrote last: Bob hears it, the other visitor neither hears nor reads it.
        await bob.SendAsync(bobs.Token, "Got it, thanks");
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{kept}/replies", new { body = "You're welcome, Bob." })).EnsureSuccessStatusCode();
        await SendDueAsync();
        Assert.Equal("You're welcome, Bob.", (await NextAsync(bob.Messages)).Body);
        Assert.False(other.Messages.Reader.TryRead(out _));
        reloaded = await other.Connection.InvokeAsync<ChatHub.Conversation>("Resume", others.Token);
        Assert.Equal([("visitor", "Any news on my account?")], reloaded.Messages.Select(m => (m.From, m.Body)));

        // When the other visitor writes last, the answer is theirs, live and after a reload, and Bob's history is left alone.
        var next = await other.SendAsync(reloaded.Token, "Hello?");
        Assert.Equal(kept, await ItemIdOfAsync(next.MessageId));
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{kept}/replies", new { body = "Who is this?" })).EnsureSuccessStatusCode();
        await SendDueAsync();
        Assert.Equal("Who is this?", (await NextAsync(other.Messages)).Body);
        var bobsView = await bob.Connection.InvokeAsync<ChatHub.Conversation>("Resume", bobs.Token);
        Assert.Equal(
            [("visitor", "I forgot my password"), ("agent", "Your reset code is 4711."), ("visitor", "Got it, thanks"), ("agent", "You're welcome, Bob.")],
            bobsView.Messages.Select(m => (m.From, m.Body)));
        Assert.False(bob.Messages.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_message_of_invisible_characters_only_is_refused()
    {
        await using var visitor = await ConnectAsync("acme");
        var token = (await visitor.StartAsync()).Token;

        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(token, "\u200B\u2060\uFEFF "));
        Assert.Contains("Write a message first", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task A_retry_is_answered_as_stored_but_other_words_under_the_same_id_are_refused_not_dropped()
    {
        await using var visitor = await ConnectAsync("acme");
        var first = await visitor.SendAsync((await visitor.StartAsync()).Token, "My order 5521 is late", "m1");

        Assert.Equal(first.MessageId, (await visitor.SendAsync(first.Token, "My order 5521 is late", "m1")).MessageId);
        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(first.Token, "Actually it is order 5522", "m1"));
        Assert.Contains("already used for another message", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Typing_shows_on_the_other_side_both_ways()
    {
        await using var visitor = await ConnectAsync("acme");
        var sent = await visitor.SendAsync((await visitor.StartAsync()).Token, "Hello?");
        var itemId = await ItemIdOfAsync(sent.MessageId);
        var presence = Channel.CreateUnbounded<PresenceEvent>();
        await using var agent = await App.AgentHubAsync("agent1@prodesk.test", c => c.On<PresenceEvent>(nameof(IAgentClient.PresenceChanged), p => presence.Writer.TryWrite(p)));
        await agent.InvokeAsync("Watch", "acme", itemId);

        await visitor.Connection.InvokeAsync("Typing", sent.Token);
        var typing = await NextAsync(presence);
        // Named as a visitor: one may call itself after an agent of the desk.
        Assert.Equal(("typing", "Ada Visitor (visitor)", itemId), (typing.What, typing.Name, typing.ItemId));

        await agent.InvokeAsync("Typing", "acme", itemId);
        Assert.Equal("Alex Martin", (await NextAsync(visitor.Typing)).Name);
    }

    [Fact]
    public async Task Too_many_messages_or_connection_attempts_from_one_address_are_refused_with_a_reason()
    {
        await using var visitor = await ConnectAsync("acme");
        var token = (await visitor.StartAsync()).Token;
        var limit = new ChatOptions().MessagesPerMinutePerIp;
        for (var i = 0; i < limit; i++)
        {
            token = (await visitor.SendAsync(token, $"Message {i}")).Token;
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(token, "One more"));
        Assert.Matches(@"You are sending messages too quickly\. Try again in \d+ seconds\.", refused.Message);
        Assert.Equal(limit, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));

        using var http = new HttpClient(Handler()) { BaseAddress = App.Server.BaseAddress };
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i <= new ChatOptions().NegotiationsPerMinutePerIp; i++)
        {
            answers.Add((await http.PostAsync("/hubs/chat/negotiate?negotiateVersion=1&tenant=acme&key=wrong", null)).StatusCode);
        }

        // The first connection above took one; then 401s for the wrong key until the limit answers 429.
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[^1]);
        Assert.All(answers[..^2], a => Assert.Equal(HttpStatusCode.Unauthorized, a));
    }

    [Fact]
    public async Task Status_pre_chat_and_resume_calls_are_limited_per_address()
    {
        await using var app = App.WithWebHostBuilder(b => b.UseSetting("Chat:ReadsPerMinutePerIp", "3"));
        await using var visitor = await ConnectAsync("acme", host: app);
        await visitor.Connection.InvokeAsync<ChatHub.ChatStatus>("Status");
        var started = await visitor.StartAsync();
        await visitor.Connection.InvokeAsync<ChatHub.Conversation>("Resume", started.Token);

        // A script looping on resume (each loads the conversation) is cut off; sending is counted on its own.
        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.Connection.InvokeAsync<ChatHub.Conversation>("Resume", started.Token));
        Assert.Contains(ChatHub.TooManyReads, refused.Message, StringComparison.Ordinal);
        Assert.NotEqual(Guid.Empty, (await visitor.SendAsync(started.Token, "Still here")).MessageId);
    }

    [Fact]
    public async Task Reusing_the_pre_chat_token_opens_no_more_conversations_than_the_limit()
    {
        await using var app = App.WithWebHostBuilder(b => b.UseSetting("Chat:ConversationsPerHourPerIp", "3"));
        await using var visitor = await ConnectAsync("acme", host: app);
        var preChat = (await visitor.StartAsync()).Token;

        // A script, not the widget: every message sent with the token that names no conversation yet.
        for (var i = 0; i < 3; i++)
        {
            await visitor.SendAsync(preChat, $"Spam {i}");
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(preChat, "Spam 3"));
        Assert.Contains(ChatHub.TooManyConversations, refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task A_shared_address_out_of_new_chats_with_one_client_is_told_when_to_try_again_and_can_still_chat_with_another()
    {
        await using var app = App.WithWebHostBuilder(b => b.UseSetting("Chat:ConversationsPerHourPerIp", "3"));
        await using var office = await ConnectAsync("acme", host: app);
        for (var i = 0; i < 3; i++)
        {
            await office.SendAsync((await office.StartAsync()).Token, $"Colleague {i}");
        }

        // One new chat comes back every 20 minutes at 3 an hour: the visitor is told so, not "wait a moment".
        var refused = await Assert.ThrowsAsync<HubException>(async () => await office.SendAsync((await office.StartAsync()).Token, "Colleague 3"));
        Assert.Matches(@"Too many new chats have come from your network\. Try again in (19|20) minutes, or write to us by email\.", refused.Message);

        await using var sameOfficeOtherClient = await ConnectAsync("northwind", host: app);
        Assert.NotEqual(Guid.Empty, (await sameOfficeOtherClient.SendAsync((await sameOfficeOtherClient.StartAsync()).Token, "Hello Northwind")).MessageId);
        Assert.Equal(1, await App.InTenantAsync("northwind", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task Reusing_a_token_of_a_closed_conversation_opens_no_more_conversations_than_the_limit()
    {
        await using var app = App.WithWebHostBuilder(b => b.UseSetting("Chat:ConversationsPerHourPerIp", "3"));
        await using var visitor = await ConnectAsync("acme", host: app);
        var sent = await visitor.SendAsync((await visitor.StartAsync()).Token, "First");
        var item = await ItemIdOfAsync(sent.MessageId);
        var supervisor = App.CreateClient().WithBearer((await App.PatAsync("supervisor@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            (await supervisor.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{item}/status", new { status })).EnsureSuccessStatusCode();
        }

        // Each message with the token of the closed conversation starts a new one, and counts as one.
        await visitor.SendAsync(sent.Token, "Again 1");
        await visitor.SendAsync(sent.Token, "Again 2");
        var refused = await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(sent.Token, "Again 3"));

        Assert.Contains(ChatHub.TooManyConversations, refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
        // Each follows up the closed conversation whose token it came with.
        Assert.Equal([(Guid?)item, item], await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id != item).Select(w => w.FollowUpOfId).ToListAsync()));
    }

    [Fact]
    public async Task Websockets_opened_without_negotiating_count_against_the_same_limit()
    {
        var limit = new ChatOptions().NegotiationsPerMinutePerIp;
        using var http = new HttpClient(Handler()) { BaseAddress = App.Server.BaseAddress };
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i <= limit; i++)
        {
            // A WebSocket upgrade as it reaches the app: a GET naming no connection id (skipNegotiation).
            using var upgrade = new HttpRequestMessage(HttpMethod.Get, $"/hubs/chat?tenant=acme&key={Uri.EscapeDataString(WidgetKey("acme"))}");
            upgrade.Headers.Add("Connection", "Upgrade");
            upgrade.Headers.Add("Upgrade", "websocket");
            answers.Add((await http.SendAsync(upgrade)).StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, answers[..^1]);
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[^1]);
    }

    [Fact]
    public async Task A_desks_own_address_is_refused_in_the_pre_chat_and_offline_forms()
    {
        await using var visitor = await ConnectAsync("acme");
        var started = await Assert.ThrowsAsync<HubException>(() => visitor.StartAsync("Loop", "support@merlion.test"));
        Assert.Contains("help desk's own address", started.Message, StringComparison.Ordinal);
        var left = await Assert.ThrowsAsync<HubException>(() => visitor.Connection.InvokeAsync("LeaveMessage", "Loop", "SUPPORT+abc@acme.test", "loop-1", "Hello"));
        Assert.Contains("help desk's own address", left.Message, StringComparison.Ordinal);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task Overlong_messages_and_missing_emails_are_refused_with_a_reason()
    {
        await using var visitor = await ConnectAsync("acme");
        Assert.Contains("valid email", (await Assert.ThrowsAsync<HubException>(() => visitor.StartAsync(email: "not an address"))).Message, StringComparison.Ordinal);
        Assert.Contains("valid email", (await Assert.ThrowsAsync<HubException>(() => visitor.StartAsync(email: ""))).Message, StringComparison.Ordinal);

        var token = (await visitor.StartAsync()).Token;
        var tooLong = new string('x', new ChatOptions().MaxMessageLength + 1);
        Assert.Contains("at most 5000 characters", (await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(token, tooLong))).Message, StringComparison.Ordinal);
        Assert.Contains("Write a message", (await Assert.ThrowsAsync<HubException>(() => visitor.SendAsync(token, "  \n "))).Message, StringComparison.Ordinal);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));
    }

    [Fact]
    public async Task A_subject_made_of_a_chats_first_line_cannot_turn_the_queue_list_around()
    {
        // U+202E in the first line would make an agent's list read "gpj.exe" for "exe.jpg" (probe round 16).
        await using var visitor = await ConnectAsync("acme");
        var started = await visitor.StartAsync();
        var sent = await visitor.SendAsync(started.Token, "invoice \u202Egpj.exe\u202C please\nsecond line", "bidi-1");
        await visitor.Connection.InvokeAsync("LeaveMessage", "Bob Offline", "bob@example.org", "bidi-2", "\u2067call me\u2069 back");

        var subjects = await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().OrderBy(w => w.Channel).Select(w => w.Subject).ToListAsync());
        Assert.Equal(["invoice gpj.exe please", "call me back"], subjects);
        // The message itself keeps what the visitor typed.
        var item = await ItemAsync("acme", await ItemIdOfAsync(sent.MessageId));
        Assert.Equal("invoice \u202Egpj.exe\u202C please\nsecond line", item.GetProperty("messages")[0].GetProperty("body").GetString());
    }

    [Fact]
    public async Task With_no_agent_online_not_even_a_supervisor_on_the_wallboard_the_offline_form_becomes_a_conversation_answered_by_email()
    {
        await using var visitor = await ConnectAsync("acme");
        Assert.False((await visitor.Connection.InvokeAsync<ChatHub.ChatStatus>("Status")).AgentsOnline);

        await visitor.Connection.InvokeAsync("LeaveMessage", "Bob Offline", "bob@example.org", "off-1", "Please call me back tomorrow.");

        var item = await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().SingleAsync());
        Assert.Equal(("webform", "Please call me back tomorrow."), (item.Channel, item.Subject));
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{item.Id}/replies", new { body = "Will do." })).EnsureSuccessStatusCode();
        var outbound = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync());
        Assert.Equal(("email", "bob@example.org"), (outbound.Channel, outbound.To));

        // A supervisor watching the wallboard serves acme but answers no chat: still the offline form (probe round 19).
        await using (var wallboard = await App.AgentHubAsync("supervisor@prodesk.test"))
        {
            await wallboard.InvokeAsync("SetStatus", "Online");
            Assert.False((await visitor.Connection.InvokeAsync<ChatHub.ChatStatus>("Status")).AgentsOnline);
        }

        // An agent serving acme comes online: the widget offers the chat.
        await using var console = await App.AgentHubAsync("agent1@prodesk.test");
        // Hub calls run after the connection's own setup: once this returns, the agent is registered.
        await console.InvokeAsync("SetStatus", "Online");
        Assert.True((await visitor.Connection.InvokeAsync<ChatHub.ChatStatus>("Status")).AgentsOnline);
    }

    [Fact]
    public async Task The_widget_script_is_cached_javascript_the_same_for_every_tenant_and_the_hub_answers_cors()
    {
        var client = App.CreateClient();
        var script = await client.GetAsync("/channels/chat/acme/widget.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromMinutes(10), script.Headers.CacheControl?.MaxAge);
        Assert.Contains("attachShadow", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Unknown tenants get the same script: it does not tell which tenants exist.
        Assert.Equal(await script.Content.ReadAsByteArrayAsync(), await client.GetByteArrayAsync("/channels/chat/no-such-tenant/widget.js"));

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/channels/chat/acme/widget.js");
        revalidate.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(revalidate)).StatusCode);

        // The demo page embeds the widget with the key it is given, as text, never as markup.
        var demo = await client.GetStringAsync("/channels/chat/acme/demo?key=%22%3E%3Cscript%3Ealert(1)%3C/script%3E");
        Assert.Contains("<script src=\"/channels/chat/acme/widget.js\" data-key=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\" async></script>", demo, StringComparison.Ordinal);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/hubs/chat/negotiate?negotiateVersion=1&tenant=acme&key=x");
        preflight.Headers.Add("Origin", "https://www.acme-client.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-requested-with,x-signalr-user-agent");
        var answer = await client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("*", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Credentials"));
    }
}
