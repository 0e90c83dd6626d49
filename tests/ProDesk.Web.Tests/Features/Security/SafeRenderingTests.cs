using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using MimeKit;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// What customers write (subjects, names, addresses, file names, mail HTML) reaches agents only as
/// text, or, for a mail's HTML, inside a sandboxed frame whose own policy runs no script.
/// </summary>
public sealed class SafeRenderingTests(ProDeskApp app) : PostgresTest(app)
{
    private const string ScriptTag = "<script>alert(1)</script>";
    private const string BrokenOutAttribute = "\"><img src=x onerror=alert(1)>";
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";

    [Fact]
    public async Task Hostile_subjects_names_bodies_and_file_names_are_shown_only_as_text()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "mallory@evil.test", name = BrokenOutAttribute, subject = ScriptTag, body = $"{ScriptTag}\n  {BrokenOutAttribute}", externalId = "render-1" });
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var file = new ByteArrayContent("x"u8.ToArray());
        // RFC 5987 form, since a quote cannot go into a plain filename parameter.
        file.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"file\"; filename*=UTF-8''{Uri.EscapeDataString($"{BrokenOutAttribute}.txt")}");
        (await integration.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent { file })).EnsureSuccessStatusCode();
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        foreach (var path in new[] { "/agent", "/agent?handler=Queue", $"/agent/items/acme/{id}", $"/agent/items/acme/{id}?handler=Thread" })
        {
            var html = await agent.GetStringAsync(path);
            AssertOnlyEncoded(html, path);
            var document = new HtmlParser().ParseDocument(html);
            Assert.NotNull(document.QuerySelectorAll("a, h1, strong, .body").FirstOrDefault(e => e.TextContent.Contains(ScriptTag, StringComparison.Ordinal) || e.TextContent.Contains(BrokenOutAttribute, StringComparison.Ordinal)));
        }

        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}"));
        Assert.Equal(ScriptTag, page.QuerySelector("h1")!.TextContent);
        Assert.StartsWith(ScriptTag, page.Title, StringComparison.Ordinal);
        Assert.Equal(BrokenOutAttribute, page.QuerySelector(".thread .message strong")!.TextContent);
        // Plain text keeps its line breaks and spaces (white-space: pre-wrap), as text.
        Assert.Equal($"{ScriptTag}\n  {BrokenOutAttribute}", page.QuerySelector(".thread .message .body")!.TextContent);
        Assert.Contains(page.QuerySelectorAll("[data-testid=attachments] a"), a => a.TextContent.Contains("img src=x onerror=alert(1)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_replys_quoted_thread_is_folded_away_on_the_item_page_and_kept()
    {
        var integration = await App.IntegrationClientAsync("acme");
        const string body = "Still broken.\n\nOn Tue, 3 Jun 2025 at 09:15, Acme Support <support@acme.test> wrote:\n> Did the plumber come?";
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "carol@example.org", subject = "Leak", body, externalId = "quoted-1" });
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}"));
        var shown = page.QuerySelector(".thread .message .body")!;
        var folded = shown.QuerySelector("details[data-testid=quoted-history]")!;
        Assert.False(folded.HasAttribute("open"));
        Assert.Contains("> Did the plumber come?", folded.TextContent, StringComparison.Ordinal);
        Assert.StartsWith("Still broken.", shown.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gmail_replys_quoted_thread_is_folded_in_its_frame_and_kept()
    {
        var mail = new MimeMessage { Subject = "Re: Leak", MessageId = "render-quoted@example.test" };
        mail.From.Add(MailboxAddress.Parse("carol@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        mail.Body = new BodyBuilder
        {
            HtmlBody = "<div dir=\"ltr\">Still broken.</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Tue, 3 Jun 2025 at 09:15, "
                + "Acme Support &lt;support@acme.test&gt; wrote:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex\">Did the plumber come?</blockquote></div>",
        }.ToMessageBody();
        var id = await PostMailAsync(mail);
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var src = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}")).QuerySelector("iframe")!.GetAttribute("src")!;

        var framed = new HtmlParser().ParseDocument(await agent.GetStringAsync(src));

        var folded = framed.QuerySelector("details")!;
        Assert.False(folded.HasAttribute("open"));
        Assert.Contains("Did the plumber come?", folded.TextContent, StringComparison.Ordinal);
        Assert.StartsWith("Still broken.", framed.Body!.TextContent.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_customers_words_under_a_sentence_like_an_attribution_are_shown_on_the_item_page_and_in_the_frame()
    {
        // Probe round 20: "On Monday your engineer wrote:" over a quote and the complaint folded the whole complaint away.
        var mail = new MimeMessage { Subject = "Nobody came", MessageId = "render-sentence@example.test" };
        mail.From.Add(MailboxAddress.Parse("carol@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        mail.Body = new TextPart("plain") { Text = "Hello,\n\nOn Monday your engineer wrote:\n> I will come on Tuesday at 10.\n\nNobody came. Please send someone TODAY.\n" };
        var textId = await PostMailAsync(mail);
        mail.MessageId = "render-sentence-html@example.test";
        mail.Body = new BodyBuilder
        {
            TextBody = "Hello,",
            HtmlBody = "<div dir=\"ltr\"><div>Hello,</div><div>On Monday your engineer wrote:</div><blockquote>I will come on Tuesday at 10.</blockquote><div>Nobody came. Please send someone TODAY.</div></div>",
        }.ToMessageBody();
        var htmlId = await PostMailAsync(mail);
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var text = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{textId}")).QuerySelector(".thread .message .body")!;
        var src = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{htmlId}")).QuerySelector("iframe")!.GetAttribute("src")!;
        var framed = new HtmlParser().ParseDocument(await agent.GetStringAsync(src));

        Assert.Null(text.QuerySelector("details"));
        Assert.Contains("Please send someone TODAY.", text.TextContent, StringComparison.Ordinal);
        Assert.Null(framed.QuerySelector("details"));
        Assert.Contains("Please send someone TODAY.", framed.Body!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agents_note_quoting_a_mail_is_shown_whole()
    {
        var mail = new MimeMessage { Subject = "Leak", MessageId = "render-note@example.test" };
        mail.From.Add(MailboxAddress.Parse("carol@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        mail.Body = new TextPart("plain") { Text = "The tap leaks." };
        var id = await PostMailAsync(mail);
        var staff = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        const string note = "Called the customer.\n\nOn Mon, 23 Nov 2026 at 09:15, Jean Dupont <jean@acme.test> wrote:\n> valve to replace";
        (await staff.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = note })).EnsureSuccessStatusCode();
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}"));

        var shown = page.QuerySelectorAll(".thread .message.note .body").Single();
        Assert.Null(shown.QuerySelector("details"));
        Assert.Contains("> valve to replace", shown.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_outlook_forward_that_opens_an_item_is_shown_whole_in_its_frame_and_a_reply_is_still_folded()
    {
        static MimeMessage Outlook(string subject, string id) => new()
        {
            Subject = subject, MessageId = id,
            From = { MailboxAddress.Parse("sam@example.test") }, To = { MailboxAddress.Parse("support@acme.prodesk.test") },
            Body = new BodyBuilder
            {
                HtmlBody = "<div><p>FYI, can you help?</p></div><div style=\"border-top:solid #E1E1E1 1.0pt\"><p><b>From:</b> Landlord Office &lt;office@landlord.example&gt;<br>"
                    + "<b>Sent:</b> Friday, 27 November 2026 16:02<br><b>To:</b> Sam<br><b>Subject:</b> Water damage in flat 12</p></div>"
                    + "<p>Your insurer must confirm the claim number 77-1234 by Wednesday.</p>",
            }.ToMessageBody(),
        };
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        async Task<IHtmlDocument> FrameAsync(Guid id) => new HtmlParser().ParseDocument(await agent.GetStringAsync(
            new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}")).QuerySelector("iframe")!.GetAttribute("src")!));

        var forward = await FrameAsync(await PostMailAsync(Outlook("FW: Water damage in flat 12", "fw-render@example.test")));
        var reply = await FrameAsync(await PostMailAsync(Outlook("RE: Water damage in flat 12", "re-render@example.test")));

        Assert.Null(forward.QuerySelector("details"));
        Assert.Contains("claim number 77-1234", forward.Body!.TextContent, StringComparison.Ordinal);
        Assert.Contains("claim number 77-1234", reply.QuerySelector("details")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Right_to_left_text_reads_right_to_left_and_a_mails_own_direction_is_kept()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "salma@example.org", name = "سلمى", subject = "الطلب 4711 لم يصل", body = "مرحبا، الطلب 4711 لم يصل.", externalId = "rtl-1" });
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}"));
        Assert.Equal("auto", page.QuerySelector("h1")!.GetAttribute("dir"));
        Assert.Equal("auto", page.QuerySelector(".thread .message .body")!.GetAttribute("dir"));
        Assert.NotNull(page.QuerySelector(".thread .message strong bdi"));

        // The sanitizer drops html and body with their attributes; the direction they set is kept around the content.
        var html = MailHtmlSanitizer.Instance.Sanitize("<html dir=\"rtl\"><body><p>مرحبا <b>4711</b></p><p dir=\"ltr\">English line</p></body></html>");
        var fragment = new HtmlParser().ParseDocument(html).Body!;
        Assert.Equal("rtl", fragment.Children.Single().GetAttribute("dir"));
        Assert.Equal("ltr", fragment.QuerySelectorAll("p")[1].GetAttribute("dir"));
        Assert.DoesNotContain("dir", MailHtmlSanitizer.Instance.Sanitize("<html><body><p>Hello</p></body></html>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mails_html_is_shown_in_a_sandboxed_frame_with_its_sender_and_its_attachments()
    {
        var mail = new MimeMessage { Subject = ScriptTag, MessageId = "render-2@evil.test" };
        mail.From.Add(new MailboxAddress(BrokenOutAttribute, "mallory@evil.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Cc.Add(new MailboxAddress(ScriptTag, "lena@example.org"));
        var body = new BodyBuilder
        {
            TextBody = "Hello agent, see the invoice.",
            HtmlBody = "<p style=\"color: #a61b1b\">Hello <b>agent</b>, see the invoice.</p><img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>",
        };
        body.Attachments.Add($"{BrokenOutAttribute}.pdf", "%PDF-1.4"u8.ToArray(), new ContentType("application", "pdf"));
        mail.Body = body.ToMessageBody();
        var id = await PostMailAsync(mail);
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var html = await agent.GetStringAsync($"/agent/items/acme/{id}");

        AssertOnlyEncoded(html, "item page");
        var page = new HtmlParser().ParseDocument(html);
        var message = page.QuerySelector(".thread .message")!;
        Assert.Equal("<mallory@evil.test>", message.QuerySelector("[data-testid=from]")!.TextContent);
        Assert.Equal(BrokenOutAttribute, message.QuerySelector("strong")!.TextContent);
        // Whom the mail also named: the agent's reply is copied to them.
        Assert.Equal("Cc: lena@example.org", message.QuerySelector("[data-testid=cc]")!.TextContent.Trim());
        // The mail's HTML is not in the console's own document, only behind the frame.
        Assert.DoesNotContain("see the invoice", html, StringComparison.Ordinal);
        var frame = (IHtmlInlineFrameElement)message.QuerySelector("iframe")!;
        Assert.Equal("allow-popups allow-popups-to-escape-sandbox", frame.GetAttribute("sandbox"));
        Assert.Null(frame.GetAttribute("srcdoc"));
        var file = message.QuerySelector("[data-testid=message-attachments] a")!;
        var stored = (await (await App.IntegrationClientAsync("acme")).JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("attachments")[0].GetProperty("fileName").GetString();
        Assert.Equal(stored, file.TextContent);
        Assert.StartsWith($"/api/v1/tenants/acme/work-items/{id}/attachments/", file.GetAttribute("href"), StringComparison.Ordinal);
        // Files that came with a mail are listed under it, not again among the agents' uploads.
        Assert.Null(page.QuerySelector("[data-testid=attachments]"));

        var framed = await agent.GetAsync(frame.GetAttribute("src"));
        Assert.Equal(HttpStatusCode.OK, framed.StatusCode);
        var policy = framed.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("sandbox allow-popups allow-popups-to-escape-sandbox", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'self'", policy, StringComparison.Ordinal);
        Assert.Equal("SAMEORIGIN", framed.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", framed.Headers.GetValues("Referrer-Policy").Single());
        var document = new HtmlParser().ParseDocument(await framed.Content.ReadAsStringAsync());
        Assert.Equal("Hello agent, see the invoice.", document.Body!.QuerySelector("p")!.TextContent);
        Assert.Contains("color", document.Body.QuerySelector("p")!.GetAttribute("style"), StringComparison.Ordinal);
        Assert.Empty(document.QuerySelectorAll("script"));
        Assert.All(document.All, e => Assert.DoesNotContain(e.Attributes, a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task A_picture_the_mail_shows_from_its_own_parts_is_in_its_frame_and_a_part_that_only_claims_to_be_one_is_not()
    {
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");
        var mail = new MimeMessage { Subject = "Signature", MessageId = "render-cid@example.test" };
        mail.From.Add(MailboxAddress.Parse("nina@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        var body = new BodyBuilder();
        var logo = body.LinkedResources.Add("logo.png", png, new ContentType("image", "png"));
        logo.ContentId = "image001.png@01DB3C5A.6F7E8D90";
        var fake = body.LinkedResources.Add("photo.png", "<html><script>alert(1)</script>"u8.ToArray(), new ContentType("image", "png"));
        fake.ContentId = "photo@example.test";
        // "CID:" as some clients write it: URL schemes are case-insensitive.
        body.HtmlBody = $"<p>Regards</p><img alt=\"logo\" src=\"CID:{logo.ContentId}\"><img alt=\"fake\" src=\"cid:{fake.ContentId}\"><img alt=\"elsewhere\" src=\"cid:missing@example.test\">";
        mail.Body = body.ToMessageBody();
        var id = await PostMailAsync(mail);
        var attachments = (await (await App.IntegrationClientAsync("acme")).JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("attachments")
            .EnumerateArray().ToDictionary(a => a.GetProperty("fileName").GetString()!, a => a.GetProperty("id").GetGuid());
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var src = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}")).QuerySelector("iframe")!.GetAttribute("src")!;

        var framed = new HtmlParser().ParseDocument(await agent.GetStringAsync(src));

        Assert.Equal($"data:image/png;base64,{Convert.ToBase64String(png)}", framed.QuerySelector("img[alt=logo]")!.GetAttribute("src"));
        // Bytes that are not a picture are never put into the frame, whatever type their part claimed.
        Assert.Equal($"cid:{attachments["photo.png"]:N}", framed.QuerySelector("img[alt=fake]")!.GetAttribute("src"));
        Assert.Equal("cid:missing@example.test", framed.QuerySelector("img[alt=elsewhere]")!.GetAttribute("src"));
        // The pictures stay downloadable attachments of the mail.
        Assert.Contains("logo.png", attachments.Keys);
    }

    [Fact]
    public async Task A_picture_shown_many_times_fills_its_frame_only_up_to_the_limit()
    {
        var picture = new byte[1024 * 1024];
        Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==").CopyTo(picture, 0);
        var mail = new MimeMessage { Subject = "Pictures", MessageId = "render-cid-many@example.test" };
        mail.From.Add(MailboxAddress.Parse("nina@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        var body = new BodyBuilder();
        body.LinkedResources.Add("big.png", picture, new ContentType("image", "png")).ContentId = "big@example.test";
        // Shown 25 times, and once more as quoted text, which is no picture.
        body.HtmlBody = string.Concat(Enumerable.Repeat("<img alt=\"big\" src=\"cid:big@example.test\">", 25)) + "<p>Write src=\"cid:big@example.test\" to show it.</p>";
        mail.Body = body.ToMessageBody();
        var id = await PostMailAsync(mail);
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var src = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}")).QuerySelector("iframe")!.GetAttribute("src")!;

        var framed = await agent.GetStringAsync(src);

        // 20 MB of pictures per frame: 20 drawn, the others left as broken images.
        Assert.Equal(20, framed.Split("src=\"data:image/png;base64,").Length - 1);
        Assert.Equal(5, framed.Split("<img alt=\"big\" src=\"cid:").Length - 1);
        Assert.Contains("to show it", framed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remote_images_wait_until_the_agent_asks_so_a_tracking_pixel_learns_nothing()
    {
        var mail = new MimeMessage { Subject = "Newsletter", MessageId = "render-remote@example.test" };
        mail.From.Add(MailboxAddress.Parse("nina@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        mail.Body = new BodyBuilder { HtmlBody = "<p>Hello</p><img alt=\"pixel\" src=\"https://tracker.example/p.gif?u=1\">" }.ToMessageBody();
        var id = await PostMailAsync(mail);
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/acme/{id}"));

        var framed = await agent.GetAsync(page.QuerySelector("iframe")!.GetAttribute("src")!);
        var policy = framed.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("img-src data: cid:;", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("https:", policy, StringComparison.Ordinal);

        // The agent's choice loads the same mail into the same frame, with web images allowed.
        var show = page.QuerySelector("[data-testid=show-images]")!;
        Assert.Equal(page.QuerySelector("iframe")!.GetAttribute("name"), show.GetAttribute("target"));
        var shown = await agent.GetAsync(show.GetAttribute("href")!);
        Assert.Contains("img-src https: data: cid:;", shown.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("tracker.example", await shown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mail_frame_is_not_found_for_another_tenants_agent_or_a_message_without_html()
    {
        var mail = new MimeMessage { Subject = "Invoice", MessageId = "render-3@example.test" };
        mail.From.Add(MailboxAddress.Parse("nina@example.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.prodesk.test"));
        mail.Body = new BodyBuilder { HtmlBody = "<p>Private to acme</p>" }.ToMessageBody();
        var id = await PostMailAsync(mail);
        var src = new HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{id}"))
            .QuerySelector("iframe")!.GetAttribute("src")!;

        // agent3 serves merlion and sla-lab only.
        var other = await App.SignedInAsync("agent3@prodesk.test");
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(src)).StatusCode);
        var integration = await App.IntegrationClientAsync("acme");
        var plain = await integration.CreateConversationAsync("acme", "render-plain");
        var plainMessage = (await integration.JsonAsync($"/api/v1/tenants/acme/work-items/{plain}")).GetProperty("messages")[0].GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await (await App.SignedInAsync("agent1@prodesk.test")).GetAsync($"/agent/items/acme/{plain}?handler=Mail&message={plainMessage}")).StatusCode);
    }

    private async Task<Guid> PostMailAsync(MimeMessage mail)
    {
        using var raw = new MemoryStream();
        await mail.WriteToAsync(raw);
        var content = new ByteArrayContent(raw.ToArray());
        content.Headers.ContentType = new("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add("X-ProDesk-Key", AcmeKey);
        var response = await App.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("workItemId").GetGuid();
    }

    /// <summary>No payload appears as markup: each occurs only encoded, and the parsed page has no element or handler it would create.</summary>
    private static void AssertOnlyEncoded(string html, string where)
    {
        Assert.False(html.Contains(ScriptTag, StringComparison.OrdinalIgnoreCase), $"{where}: raw <script> from the payload");
        Assert.False(html.Contains("<img src=x", StringComparison.OrdinalIgnoreCase), $"{where}: raw <img> from the payload");
        var document = new HtmlParser().ParseDocument(html);
        Assert.All(document.QuerySelectorAll("script"), s => Assert.NotEmpty(s.GetAttribute("nonce") ?? ""));
        Assert.Empty(document.QuerySelectorAll("img[onerror], [onerror]"));
    }
}
