using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Channels;

/// <summary>
/// The chat widget on a client's web site (another origin, as in production: a page served from a
/// second loopback port embeds the desk's script), a visitor chatting in it, and an agent answering
/// from the console in another browser: each sees the other's messages and typing live.
/// </summary>
public sealed class ChatWidgetTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task A_visitor_and_an_agent_chat_live_from_a_client_site_and_a_reload_resumes_the_conversation()
    {
        var agent = await SignedInPageAsync("agent1@prodesk.test");
        using var site = ClientSite.Start(Fixture.App.BaseAddress, "acme", WidgetKey("acme"));
        var subject = $"Heater broken {Guid.NewGuid():N}"[..22];

        await Page.GotoAsync(site.Address.ToString());
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("We are online");
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Your name" }).FillAsync("Vera Visitor");
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Email (required)" }).FillAsync("vera@example.org");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat" }).ClickAsync();
        var message = Page.GetByRole(AriaRole.Textbox, new() { Name = "Type your message" });
        await message.FillAsync($"{subject}\nIt makes a loud noise.");
        await message.PressAsync("Enter");

        // The conversation arrives in the agent's queue live; the agent opens it.
        await agent.GetByTestId("queue").GetByText(subject).ClickAsync();
        await Expect(agent.Locator("h1")).ToHaveTextAsync(subject);
        await Expect(agent.GetByTestId("thread")).ToContainTextAsync("It makes a loud noise.");
        await Expect(agent.Locator("[data-item][data-live='true']")).ToBeVisibleAsync();

        // The visitor types: the agent sees it; the visitor's next message appears in the thread without a reload.
        await message.PressSequentiallyAsync("Hello");
        await Expect(agent.GetByTestId("presence")).ToContainTextAsync("Vera Visitor (visitor) is typing");
        await message.PressSequentiallyAsync(", are you there?");
        await message.PressAsync("Enter");
        await Expect(agent.GetByTestId("thread")).ToContainTextAsync("Hello, are you there?");

        // The agent types and replies: the visitor sees both.
        var reply = agent.GetByLabel("Reply");
        await reply.PressSequentiallyAsync("Yes");
        await Expect(Page.GetByText("Alex Martin is typing…")).ToBeVisibleAsync();
        await reply.FillAsync("Yes, a technician is on the way.");
        await agent.GetByRole(AriaRole.Button, new() { Name = "Send reply" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.List, new() { Name = "Messages" })).ToContainTextAsync("Yes, a technician is on the way.");

        // A reload of the client's page resumes the conversation from the stored token; the reply was read with the
        // panel open, so the bubble does not call it new again.
        await Page.ReloadAsync();
        await Expect(Page.Locator("#prodesk-chat-panel ol li")).ToHaveCountAsync(3);
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" })).ToHaveTextAsync("Chat with us");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        var messages = Page.GetByRole(AriaRole.List, new() { Name = "Messages" }).GetByRole(AriaRole.Listitem);
        await Expect(messages).ToHaveCountAsync(3);
        await Expect(messages.Nth(0)).ToContainTextAsync("It makes a loud noise.");
        await Expect(messages.Nth(2)).ToContainTextAsync("Alex Martin");
    }

    [Fact]
    public async Task The_host_pages_styles_and_markup_do_not_reach_into_the_widget_and_markup_in_messages_stays_text()
    {
        await SignedInPageAsync("agent2@prodesk.test");
        // Markup a client's site let through from a comment (DOM clobbering): an element named currentScript used to stand in
        // for the widget's own script tag, pointing it (and the SignalR code it loads) at another origin, here a closed port.
        using var site = ClientSite.Start(Fixture.App.BaseAddress, "acme", WidgetKey("acme"),
            "<style>* { color: rgb(255, 0, 0) !important; display: inline !important; } button { visibility: hidden !important; }</style>"
            + "<img name=\"currentScript\" src=\"http://127.0.0.1:9/channels/chat/acme/widget.js\" alt=\"\"><form id=\"signalR\"><input name=\"HubConnectionBuilder\"></form>");

        await Page.GotoAsync(site.Address.ToString());
        var bubble = Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" });
        await bubble.ClickAsync();
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Email (required)" }).FillAsync("mallory@example.org");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat" }).ClickAsync();
        var message = Page.GetByRole(AriaRole.Textbox, new() { Name = "Type your message" });
        await message.FillAsync("<img src=x onerror=\"document.title='pwned'\"><b>bold</b>");
        await message.PressAsync("Enter");

        var shown = Page.GetByRole(AriaRole.List, new() { Name = "Messages" }).GetByRole(AriaRole.Listitem).Last;
        await Expect(shown).ToContainTextAsync("<img src=x onerror=\"document.title='pwned'\"><b>bold</b>");
        await Expect(shown.Locator("img, b")).ToHaveCountAsync(0);
        // Stored (the desk answered), not only drawn.
        await Expect(shown).Not.ToHaveAttributeAsync("aria-busy", "true");
        Assert.NotEqual("pwned", await Page.TitleAsync());
        Assert.Equal("rgb(255, 255, 255)", await bubble.EvaluateAsync<string>("e => getComputedStyle(e).color"));
        Assert.Equal("visible", await bubble.EvaluateAsync<string>("e => getComputedStyle(e).visibility"));
    }

    [Fact]
    public async Task A_message_whose_answer_is_lost_stays_in_the_box_and_sending_it_again_stores_it_once()
    {
        await SignedInPageAsync("agent1@prodesk.test");
        using var site = ClientSite.Start(Fixture.App.BaseAddress, "acme", WidgetKey("acme"));
        var words = $"Lost answer {Guid.NewGuid():N}"[..24];

        // The desk stores the first message, but its answer never reaches the visitor: the connection drops it and
        // the widget hears an error instead, as when a network blip ends the call after the desk committed.
        await OnFirstSendAnswerAsync((page, message, id) => page.Send($"{{\"type\":3,\"invocationId\":\"{id}\",\"error\":\"Connection lost.\"}}\u001e"));

        await Page.GotoAsync(site.Address.ToString());
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Email (required)" }).FillAsync("lena@example.org");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat" }).ClickAsync();
        var box = Page.GetByRole(AriaRole.Textbox, new() { Name = "Type your message" });
        await box.FillAsync(words);
        await box.PressAsync("Enter");

        await Expect(Page.GetByText("Not sent:")).ToBeVisibleAsync();
        await Expect(box).ToHaveValueAsync(words);
        await box.PressAsync("Enter");
        var messages = Page.GetByRole(AriaRole.List, new() { Name = "Messages" }).GetByRole(AriaRole.Listitem);
        await Expect(messages.Filter(new() { HasText = words })).ToHaveCountAsync(1);
        await Expect(messages.Filter(new() { HasText = words })).Not.ToHaveAttributeAsync("aria-busy", "true");
        await Expect(box).ToHaveValueAsync("");

        // What the desk holds: the conversation resumed after a reload shows the words once.
        await Page.ReloadAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Expect(messages.Filter(new() { HasText = words })).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Two_messages_typed_before_the_desk_answers_the_first_stay_one_conversation()
    {
        await SignedInPageAsync("agent1@prodesk.test");
        using var site = ClientSite.Start(Fixture.App.BaseAddress, "acme", WidgetKey("acme"));
        var (first, second) = ($"Hi {Guid.NewGuid():N}"[..12], $"My boiler leaks {Guid.NewGuid():N}"[..24]);

        // The desk's answer to the first message is held back until the visitor has typed the second: a slow network.
        var release = new TaskCompletionSource();
        await OnFirstSendAnswerAsync((page, message, _) => release.Task.ContinueWith(_ => page.Send($"{message}\u001e"), TaskScheduler.Default));

        await Page.GotoAsync(site.Address.ToString());
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Email (required)" }).FillAsync("quick@example.org");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat" }).ClickAsync();
        var box = Page.GetByRole(AriaRole.Textbox, new() { Name = "Type your message" });
        await box.FillAsync(first);
        await box.PressAsync("Enter");
        await box.FillAsync(second);
        await box.PressAsync("Enter");
        release.SetResult();

        var messages = Page.GetByRole(AriaRole.List, new() { Name = "Messages" }).GetByRole(AriaRole.Listitem);
        await Expect(messages.Filter(new() { HasText = second })).Not.ToHaveAttributeAsync("aria-busy", "true");

        // One conversation holds both: after a reload the widget shows the first message too.
        await Page.ReloadAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Expect(messages.Filter(new() { HasText = first })).ToHaveCountAsync(1);
        await Expect(messages.Filter(new() { HasText = second })).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task An_agent_on_an_item_page_is_told_of_a_new_chat_in_a_notice_and_the_tab_title()
    {
        var working = await CreateConversationAsync("acme", $"Printer {Guid.NewGuid():N}"[..16]);
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        await bea.GotoAsync($"/agent/items/acme/{working}");
        await Expect(bea.Locator("[data-item][data-live='true']")).ToBeVisibleAsync();
        await Expect(bea.GetByTestId("new-chats")).ToBeHiddenAsync();
        using var site = ClientSite.Start(Fixture.App.BaseAddress, "acme", WidgetKey("acme"));
        var subject = $"Flooding {Guid.NewGuid():N}"[..20];

        await Page.GotoAsync(site.Address.ToString());
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chat with us" }).ClickAsync();
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Your name" }).FillAsync("Vera Visitor");
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Email (required)" }).FillAsync("vera@example.org");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat" }).ClickAsync();
        var message = Page.GetByRole(AriaRole.Textbox, new() { Name = "Type your message" });
        await message.FillAsync($"{subject}\nIs anyone there?");
        await message.PressAsync("Enter");

        // Acme's queue is pull: nobody is given the chat, so the agent on another item has to be told.
        await Expect(bea.GetByTestId("new-chats")).ToContainTextAsync("A new chat is waiting");
        await Expect(bea).ToHaveTitleAsync(new System.Text.RegularExpressions.Regex(@"^\(1\) New chat"));
        await bea.GetByTestId("new-chats").GetByRole(AriaRole.Link, new() { Name = subject }).ClickAsync();
        await Expect(bea.Locator("h1")).ToHaveTextAsync(subject);
    }

    /// <summary>
    /// Routes the widget's hub socket through the test: frames pass as they are, except the desk's answer to the
    /// visitor's first Send, which goes to <paramref name="answer"/> (with the page's side of the socket and the call's id).
    /// </summary>
    private async Task OnFirstSendAnswerAsync(Action<IWebSocketRoute, string, string> answer)
    {
        string? firstSend = null;
        await Page.RouteWebSocketAsync(new System.Text.RegularExpressions.Regex("/hubs/chat"), page =>
        {
            var desk = page.ConnectToServer();
            page.OnMessage(frame =>
            {
                if (firstSend is null && frame.Text?.Contains("\"target\":\"Send\"", StringComparison.Ordinal) == true)
                {
                    firstSend = JsonDocument.Parse(frame.Text.Split('\u001e')[0]).RootElement.GetProperty("invocationId").GetString();
                }

                desk.Send(frame.Text!);
            });
            desk.OnMessage(frame =>
            {
                // A frame may carry several messages (each ended by 0x1e): only the answer is taken out.
                var messages = frame.Text!.Split('\u001e', StringSplitOptions.RemoveEmptyEntries).ToList();
                var held = messages.FindIndex(m => firstSend is not null && m.Contains("\"type\":3", StringComparison.Ordinal)
                    && m.Contains($"\"invocationId\":\"{firstSend}\"", StringComparison.Ordinal));
                if (held >= 0)
                {
                    answer(page, messages[held], firstSend!);
                    messages.RemoveAt(held);
                }

                if (messages.Count > 0)
                {
                    page.Send(string.Concat(messages.Select(m => m + "\u001e")));
                }
            });
        });
    }

    private static string WidgetKey(string slug) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, slug, "channels.json"))).RootElement.GetProperty("widgetKey").GetString()!;

    /// <summary>
    /// A client's web site on a loopback port of its own: another origin than the desk, so the widget
    /// crosses origins (CORS) exactly as on a real client site.
    /// </summary>
    private sealed class ClientSite : IDisposable
    {
        private readonly HttpListener _listener;

        private ClientSite(HttpListener listener, Uri address)
        {
            _listener = listener;
            Address = address;
        }

        public Uri Address { get; }

        public static ClientSite Start(Uri desk, string tenant, string key, string head = "")
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var address = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(address.ToString());
            listener.Start();
            var html = Encoding.UTF8.GetBytes($"""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Acme plumbing</title>{head}</head>
                <body><h1>Acme plumbing</h1><p>We fix leaks.</p>
                <script src="{desk}channels/chat/{tenant}/widget.js" data-key="{WebUtility.HtmlEncode(key)}" async></script>
                </body></html>
                """);
            _ = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    context.Response.ContentType = "text/html; charset=utf-8";
                    context.Response.StatusCode = context.Request.Url?.AbsolutePath == "/" ? 200 : 404;
                    if (context.Response.StatusCode == 200)
                    {
                        await context.Response.OutputStream.WriteAsync(html);
                    }

                    context.Response.Close();
                }
            });
            return new ClientSite(listener, address);
        }

        public void Dispose() => _listener.Close();
    }
}
