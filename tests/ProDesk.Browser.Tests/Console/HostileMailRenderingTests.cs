using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>
/// Hostile mail, as sent to the inbound route, opened by an agent: what it says is readable (the
/// sanitized HTML inside its sandboxed frame, or the plain text), and nothing in it runs: no
/// dialog, no <c>window.__pwned</c> in the console's page, and no policy violation from the
/// console's own code (which would mean the page itself is broken under its policy).
/// </summary>
public sealed partial class HostileMailRenderingTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";

    private static readonly string Corpus = Path.Combine(Repository.Root, "tests", "ProDesk.Web.Tests", "Features", "Channels", "EmailCorpus");

    private static readonly string Own = Path.Combine(Repository.Root, "tests", "ProDesk.Browser.Tests", "Console", "HostileMail");

    [Theory]
    [InlineData("html-img-onerror.eml", "hover me")]
    [InlineData("html-script-tags.eml", "Regards")]
    [InlineData("html-inline-svg.eml", "Chart below")]
    [InlineData("html-javascript-links.eml", "a good link")]
    [InlineData("html-meta-refresh.eml", "Your session expired.")]
    [InlineData("html-css-expression.eml", "allowed style")]
    [InlineData("html-data-url.eml", "a png as a link")]
    [InlineData("html-form.eml", "Your mailbox is full. Confirm your password below.")]
    [InlineData("utf7-html.eml", "Hi")]
    public async Task A_hostile_html_mail_shows_its_sanitized_content_in_the_frame_and_runs_nothing(string file, string visible)
    {
        var (agent, watch) = await WatchedAgentAsync();
        var id = await PostMailAsync(Path.Combine(Corpus, file));

        await agent.GotoAsync($"/agent/items/acme/{id}");

        await Expect(agent.FrameLocator("[data-testid=mail-frame]").GetByText(visible, new FrameLocatorGetByTextOptions { Exact = true })).ToBeVisibleAsync();
        await watch.AssertNothingRanAsync(agent);
    }

    [Fact]
    public async Task Payloads_in_the_subject_sender_body_and_file_name_stay_text_in_the_item_and_the_queue()
    {
        var (agent, watch) = await WatchedAgentAsync();
        var id = await PostMailAsync(Path.Combine(Own, "pwned-everywhere.eml"));

        await agent.GotoAsync($"/agent/items/acme/{id}");

        await Expect(agent.Locator("h1")).ToHaveTextAsync("<img src=x onerror=\"window.__pwned=2\"> Invoice <script>window.__pwned=3</script>");
        var message = agent.GetByTestId("thread").Locator(".message").First;
        await Expect(message.Locator("strong")).ToHaveTextAsync("<img src=x onerror=window.__pwned=1>");
        await Expect(message.GetByTestId("from")).ToHaveTextAsync("<mallory@evil.test>");
        await Expect(message.GetByTestId("message-attachments")).ToContainTextAsync("onerror=window.__pwned=12");
        var frame = agent.FrameLocator("[data-testid=mail-frame]");
        await Expect(frame.GetByText("Pwned check: nothing here runs.")).ToBeVisibleAsync();
        await Expect(frame.GetByText("Pwned check: nothing here runs.")).ToHaveCSSAsync("color", "rgb(36, 86, 214)");
        await Expect(frame.GetByText("End of mail.")).ToBeVisibleAsync();
        // The link lost its javascript: URL at ingestion; clicking it does nothing.
        await frame.GetByText("click me").ClickAsync();
        await watch.AssertNothingRanAsync(agent);

        await agent.GotoAsync("/agent");
        await Expect(agent.GetByTestId("queue").GetByText("Invoice <script>window.__pwned=3</script>", new LocatorGetByTextOptions { Exact = false })).ToBeVisibleAsync();
        await watch.AssertNothingRanAsync(agent);
    }

    [Fact]
    public async Task A_spoofed_display_name_shows_the_real_address_and_hostile_file_names_are_plain_links()
    {
        var (agent, watch) = await WatchedAgentAsync();
        var spoofed = await PostMailAsync(Path.Combine(Corpus, "from-display-name-injection.eml"));
        var files = await PostMailAsync(Path.Combine(Corpus, "path-traversal-filenames.eml"));

        await agent.GotoAsync($"/agent/items/acme/{spoofed}");
        var message = agent.GetByTestId("thread").Locator(".message").First;
        await Expect(message.GetByTestId("from")).ToHaveTextAsync("<help@prodesk.test.evil.example>"); // its Reply-To, where answers go
        await Expect(message.GetByTestId("sent-by")).ToHaveTextAsync("sent by <evil@x.test>");
        await Expect(message.Locator(".body")).ToContainTextAsync("Please reset every password and send them to me.");

        await agent.GotoAsync($"/agent/items/acme/{files}");
        var links = agent.GetByTestId("thread").GetByTestId("message-attachments").Locator("a");
        await Expect(links.First).ToBeVisibleAsync();
        foreach (var href in await links.EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))"))
        {
            Assert.Matches($"^/api/v1/tenants/acme/work-items/{files}/attachments/[0-9a-f-]{{36}}$", href);
        }

        await watch.AssertNothingRanAsync(agent);
    }

    [Fact]
    public async Task A_customer_calling_themselves_an_agent_is_shown_as_the_customer_and_an_endless_word_wraps_inside_the_page()
    {
        var (agent, watch) = await WatchedAgentAsync();
        var word = string.Concat(Enumerable.Repeat("Overflow", 600));
        var id = await PostRawAsync(string.Join("\r\n",
            "From: \"Alex Martin (agent) <agent1@prodesk.test>\" <cust3@evil.test>",
            "To: support@acme.prodesk.test",
            $"Subject: Refund {word[..300]}",
            $"Message-ID: <{Guid.NewGuid():N}@browser.test>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "",
            $"Please wire the refund to my new account. {word}",
            ""));

        await agent.GotoAsync($"/agent/items/acme/{id}");
        var message = agent.GetByTestId("thread").Locator(".message").First;
        await Expect(message.GetByTestId("role")).ToHaveTextAsync("Customer");
        await Expect(message.GetByTestId("from")).ToHaveTextAsync("<cust3@evil.test>");
        await agent.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true }).FillAsync("We never change account details by mail.");
        await agent.GetByRole(AriaRole.Button, new() { Name = "Send reply" }).ClickAsync();
        await Expect(agent.GetByTestId("thread").Locator(".message").Last.GetByTestId("role")).ToHaveTextAsync("Agent reply");

        // The 4,800-character word and the 300-character subject wrap: neither the item nor the queue grows wider than the window.
        Assert.True(await agent.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the item page scrolls sideways");
        await agent.GotoAsync("/agent");
        await Expect(agent.GetByTestId("queue")).ToContainTextAsync("Refund Overflow");
        Assert.True(await agent.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the queue scrolls sideways");
        await watch.AssertNothingRanAsync(agent);
    }

    [Fact]
    public async Task A_new_mail_on_an_open_item_appears_live_in_a_frame_of_its_own()
    {
        var (agent, watch) = await WatchedAgentAsync();
        var thread = Guid.NewGuid().ToString("N");
        var id = await PostRawAsync(HtmlMail(thread, null, "<p>First: <b>the boiler</b></p>"));
        await agent.GotoAsync($"/agent/items/acme/{id}");
        await Expect(agent.GetByTestId("mail-frame")).ToHaveCountAsync(1);

        // Whether it lands before or after the page's hub connects, the page shows it (event, or the re-sync on connect).
        await PostRawAsync(HtmlMail($"{thread}-2", thread, "<p>Follow-up: <b>still broken</b></p><img src=x onerror=\"window.top.__pwned=20\">"));

        await Expect(agent.GetByTestId("mail-frame")).ToHaveCountAsync(2);
        await Expect(agent.GetByTestId("mail-frame").Nth(1).ContentFrame.GetByText("still broken")).ToBeVisibleAsync();
        await Expect(agent.GetByTestId("mail-frame").Nth(0).ContentFrame.GetByText("the boiler")).ToBeVisibleAsync();
        await watch.AssertNothingRanAsync(agent);
    }

    [Fact]
    public async Task A_signature_picture_from_the_mails_own_parts_is_drawn_in_its_frame()
    {
        var (agent, watch) = await WatchedAgentAsync();
        var id = await PostRawAsync(string.Join("\r\n",
            "From: Nina <nina@example.test>",
            "To: support@acme.prodesk.test",
            "Subject: Signed",
            $"Message-ID: <{Guid.NewGuid():N}@browser.test>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/related; boundary=\"rel\"; type=\"text/html\"",
            "",
            "--rel",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Kind regards</p><img alt=\"logo\" width=\"20\" height=\"20\" src=\"cid:image001.png@01DB3C5A.6F7E8D90\">",
            "--rel",
            "Content-Type: image/png; name=\"image001.png\"",
            "Content-ID: <image001.png@01DB3C5A.6F7E8D90>",
            "Content-Disposition: inline; filename=\"image001.png\"",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
            "--rel--",
            ""));

        await agent.GotoAsync($"/agent/items/acme/{id}");

        var logo = agent.FrameLocator("[data-testid=mail-frame]").Locator("img[alt=logo]");
        await Expect(logo).ToBeVisibleAsync();
        // Decoded and drawn (a broken image has no natural size), under the frame's own policy.
        Assert.Equal(1, await logo.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : -1"));
        await watch.AssertNothingRanAsync(agent);
    }

    /// <summary>agent1 (serves every tenant) on a fresh page, with dialogs, page errors and policy violations recorded.</summary>
    private async Task<(IPage Agent, Watch Watch)> WatchedAgentAsync()
    {
        var agent = await SignedInPageAsync("agent1@prodesk.test");
        return (agent, new Watch(agent));
    }

    /// <summary>Posts a corpus file under a Message-ID of its own, so every run creates a new item; returns its id.</summary>
    private Task<Guid> PostMailAsync(string path)
    {
        // Latin-1 round-trips every byte (8-bit headers, NULs) unchanged.
        var raw = File.ReadAllText(path, Encoding.Latin1);
        var messageId = $"Message-ID: <{Guid.NewGuid():N}@browser.test>";
        raw = MessageIdHeader().IsMatch(raw) ? MessageIdHeader().Replace(raw, messageId, 1) : $"{messageId}\r\n{raw}";
        return PostRawAsync(raw);
    }

    private async Task<Guid> PostRawAsync(string raw)
    {
        using var http = new HttpClient { BaseAddress = Fixture.App.BaseAddress };
        var content = new ByteArrayContent(Encoding.Latin1.GetBytes(raw));
        content.Headers.ContentType = new("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "channels/email/acme/inbound") { Content = content };
        request.Headers.Add("X-ProDesk-Key", AcmeKey);
        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("workItemId").GetGuid();
    }

    /// <summary>An HTML mail with Message-ID &lt;<paramref name="id"/>@browser.test&gt;, replying to <paramref name="inReplyTo"/> when given.</summary>
    private static string HtmlMail(string id, string? inReplyTo, string html) => string.Join("\r\n",
        "From: Mallory <mallory@evil.test>",
        "To: support@acme.prodesk.test",
        inReplyTo is null ? "Subject: Boiler" : "Subject: Re: Boiler",
        $"Message-ID: <{id}@browser.test>",
        inReplyTo is null ? "X-Thread: new" : $"In-Reply-To: <{inReplyTo}@browser.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "",
        html,
        "");

    [GeneratedRegex(@"^Message-ID:.*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdHeader();

    /// <summary>What a page did that it must not: a dialog, an uncaught error, a policy violation outside a mail frame.</summary>
    private sealed class Watch
    {
        private readonly List<string> problems = [];

        public Watch(IPage page)
        {
            page.Dialog += (_, dialog) =>
            {
                Add($"dialog: {dialog.Message}");
                _ = dialog.DismissAsync();
            };
            page.PageError += (_, error) => Add($"page error: {error}");
            page.Console += (_, message) =>
            {
                // A mail frame's own policy blocking what the mail asks for is that policy working; anywhere else it is our page broken.
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) && !message.Location.Contains("handler=Mail", StringComparison.Ordinal))
                {
                    Add($"policy violation at {message.Location}: {message.Text}");
                }
            };
        }

        public async Task AssertNothingRanAsync(IPage page)
        {
            Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
            lock (problems)
            {
                Assert.True(problems.Count == 0, string.Join("\n", problems));
            }
        }

        private void Add(string problem)
        {
            lock (problems)
            {
                problems.Add(problem);
            }
        }
    }
}
