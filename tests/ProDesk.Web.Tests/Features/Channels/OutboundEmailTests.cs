using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using ProDesk.Data.Channels;
using ProDesk.Testing;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>Mail out through a real SMTP server (the sink on loopback started by tests/run.sh), read back as it arrived.</summary>
public sealed class OutboundEmailTests(ProDeskApp app) : PostgresTest(app)
{
    private readonly MailServers _servers = MailServers.FromEnvironment();

    private WebApplicationFactory<Program> WithSmtp(int? port = null) => App.WithWebHostBuilder(b => b
        .UseSetting("Smtp:Host", _servers.Smtp.Host)
        .UseSetting("Smtp:Port", (port ?? _servers.Smtp.Port).ToString(System.Globalization.CultureInfo.InvariantCulture))
        .UseSetting("Smtp:Security", "None"));

    private static async Task SendDueAsync(WebApplicationFactory<Program> host) =>
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

    private async Task<Guid> ConversationAsync(string from, string subject)
    {
        var integration = await App.IntegrationClientAsync("acme");
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from, name = "Ada", subject, body = "Hello", externalId = Guid.NewGuid().ToString() });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task An_agents_reply_arrives_from_the_tenants_address_with_a_signed_reply_address()
    {
        using var host = WithSmtp();
        var customer = $"ada-{Guid.NewGuid():N}@example.org";
        var itemId = await ConversationAsync(customer, "Broken login");
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Please reset your password." })).EnsureSuccessStatusCode();

        await SendDueAsync(host);

        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(customer), TimeSpan.FromSeconds(10));
        Assert.Equal("support@acme.test", sent.From.Mailboxes.Single().Address);
        Assert.Equal("Re: Broken login", sent.Subject);
        Assert.Matches(@"^support\+r-[a-z2-7]+@acme\.test$", sent.ReplyTo.Mailboxes.Single().Address);
        Assert.Contains("Please reset your password.", sent.TextBody, StringComparison.Ordinal);
        Assert.Null(sent.Headers[HeaderId.AutoSubmitted]);
        var row = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync());
        Assert.Equal(OutboundState.Sent, row.State);
        Assert.Equal(row.InternetMessageId, sent.MessageId);
    }

    [Fact]
    public async Task Without_a_relay_a_mail_is_written_to_the_pickup_folder_ready_to_relay()
    {
        var root = Directory.CreateTempSubdirectory("prodesk-pickup-").FullName;
        var paths = new ProDesk.Web.Hosting.ProDeskPaths(root, Path.Combine(root, "data"), "seed");
        await using var sender = new ProDesk.Web.Channels.Email.SmtpEmailSender(
            Microsoft.Extensions.Options.Options.Create(new ProDesk.Web.Channels.Email.SmtpOptions()), paths, TimeProvider.System);
        var body = "Voilà: " + new string('x', 2000);
        var message = new OutboundMessage
        {
            Id = Guid.CreateVersion7(), TenantId = Guid.NewGuid(), WorkItemId = Guid.NewGuid(), Channel = "email",
            To = "marie@example.fr", Subject = "Re: Chaudière", Body = body, State = OutboundState.Pending,
            NextAttemptAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow,
        };
        var settings = new ChannelSettings { InboundKeyHash = new byte[32], WidgetKey = "w", ReplyTokenKey = new byte[32], SupportAddress = "support@acme.test" };

        await sender.SendAsync(message, settings, "Acme", CancellationToken.None);

        // 7-bit and no line over RFC 5322's 998 characters, as MailKit would have sent it; the text unchanged once decoded.
        var file = Assert.Single(Directory.GetFiles(Path.Combine(root, "data", "mail-outbox"), "*.eml"));
        var raw = await File.ReadAllBytesAsync(file);
        Assert.All(raw, b => Assert.True(b < 0x80, "8-bit byte in the pickup file"));
        Assert.All(System.Text.Encoding.ASCII.GetString(raw).Split('\n'), line => Assert.True(line.TrimEnd('\r').Length <= 998, $"line of {line.Length}"));
        Assert.Contains(body, (await MimeMessage.LoadAsync(file)).TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_field_can_add_a_header_or_a_recipient()
    {
        using var host = WithSmtp();
        var customer = $"bob-{Guid.NewGuid():N}@example.org";
        var itemId = await ConversationAsync(customer, "Hello\r\nBcc: victim@example.net\r\nX-Injected: yes");
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Line one\r\n.\r\nMAIL FROM:<x@y>\r\n" })).EnsureSuccessStatusCode();

        await SendDueAsync(host);

        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(customer), TimeSpan.FromSeconds(10));
        Assert.Equal([customer], sent.EnvelopeTo());
        Assert.Null(sent.Headers["X-Injected"]);
        Assert.Empty(sent.Bcc);
        Assert.DoesNotContain('\n', sent.Subject ?? "");
        Assert.Contains("MAIL FROM:<x@y>", sent.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mails_sent_one_after_another_go_over_one_connection_to_the_relay()
    {
        using var host = WithSmtp();
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var customers = Enumerable.Range(1, 3).Select(i => $"dora{i}-{Guid.NewGuid():N}@example.org").ToList();
        foreach (var customer in customers)
        {
            var itemId = await ConversationAsync(customer, "Batch");
            (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Noted." })).EnsureSuccessStatusCode();
        }

        await SendDueAsync(host);

        var sent = await Task.WhenAll(customers.Select(c => _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(c), TimeSpan.FromSeconds(10))));
        Assert.Single(sent.Select(m => m.EnvelopePeer()).Distinct());
        Assert.NotEqual("", sent[0].EnvelopePeer());
    }

    [Fact]
    public async Task A_relay_restarted_between_two_mails_gets_the_second_on_a_new_connection_at_the_first_attempt()
    {
        var first = await OwnSmtpSink.StartAsync();
        var port = first.Port;
        using var host = WithSmtp(port);
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        async Task ReplyAsync(string customer)
        {
            var itemId = await ConversationAsync(customer, "Restart");
            (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Hi" })).EnsureSuccessStatusCode();
            await SendDueAsync(host);
        }

        await ReplyAsync($"erin-{Guid.NewGuid():N}@example.org");
        Assert.Single(await first.SentAsync());
        await first.DisposeAsync(); // the relay goes away, and with it the connection the app kept
        await using var second = await OwnSmtpSink.StartAsync(port);
        var customer = $"finn-{Guid.NewGuid():N}@example.org";

        await ReplyAsync(customer);

        Assert.Equal([customer], (await second.SentAsync()).SelectMany(m => m.EnvelopeTo()));
        var rows = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().ToListAsync());
        Assert.All(rows, r => Assert.Equal((OutboundState.Sent, 1), (r.State, r.Attempts)));
    }

    [Fact]
    public async Task An_unreachable_relay_is_retried_later_not_given_up()
    {
        // A port nothing listens on: the connection is refused at once.
        using var host = WithSmtp(AppProcess.FreeLoopbackPort());
        var itemId = await ConversationAsync($"carl-{Guid.NewGuid():N}@example.org", "Retry me");
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Hi" })).EnsureSuccessStatusCode();
        var before = DateTime.UtcNow;

        await SendDueAsync(host);

        var row = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync());
        Assert.Equal(OutboundState.Pending, row.State);
        Assert.Equal(1, row.Attempts);
        Assert.False(string.IsNullOrEmpty(row.LastError));
        Assert.InRange(row.NextAttemptAt, before.AddSeconds(25), before.AddSeconds(40));
    }

    private static async Task<Guid> UploadAsync(HttpClient agent, string slug, Guid itemId, byte[] bytes, string name, string type)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(bytes) { Headers = { ContentType = new(type) } }, "file", name } };
        var upload = await agent.PostAsync($"/api/v1/tenants/{slug}/work-items/{itemId}/attachments", form);
        Assert.Equal(System.Net.HttpStatusCode.Created, upload.StatusCode);
        return JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task An_agents_reply_carries_the_item_files_the_agent_picked_as_mail_attachments_and_lists_them()
    {
        using var host = WithSmtp();
        var customer = $"gina-{Guid.NewGuid():N}@example.org";
        var itemId = await ConversationAsync(customer, "Quote please");
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var quote = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        var quoteId = await UploadAsync(agent, "acme", itemId, quote, "Devis n°42.pdf", "application/pdf");
        var internalId = await UploadAsync(agent, "acme", itemId, "team only"u8.ToArray(), "notes.txt", "text/plain");

        var reply = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Here is your quote.", attachmentIds = new[] { quoteId } });
        Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());
        await SendDueAsync(host);

        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(customer), TimeSpan.FromSeconds(10));
        Assert.True(sent.Body is Multipart { ContentType.MediaSubtype: "mixed" }, sent.Body.ContentType.MimeType);
        Assert.Contains("Here is your quote.", sent.TextBody, StringComparison.Ordinal);
        var file = Assert.Single(sent.Attachments.OfType<MimePart>());
        Assert.Equal(("Devis n°42.pdf", "application/pdf"), (file.FileName, file.ContentType.MimeType));
        using var bytes = new MemoryStream();
        file.Content!.DecodeTo(bytes);
        Assert.Equal(quote, bytes.ToArray());

        // The reply lists what it sent (the API and the console); the file left unticked stays the team's.
        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{itemId}");
        var replied = item.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("kind").GetString() == "Reply");
        Assert.Equal([quoteId], replied.GetProperty("attachmentIds").EnumerateArray().Select(e => e.GetGuid()));
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}"));
        Assert.Equal(["Devis n°42.pdf"], page.QuerySelectorAll("[data-testid=sent-attachments] a").Select(a => a.TextContent));
        // The reply form offers every file of the item to tick, the internal one included (unticked by default).
        Assert.Equal([quoteId.ToString(), internalId.ToString()], page.QuerySelectorAll("[data-testid=reply-files] input[type=checkbox]").Select(c => c.GetAttribute("value")!));
        Assert.DoesNotContain(page.QuerySelectorAll("[data-testid=reply-files] input"), c => c.HasAttribute("checked"));
    }

    [Fact]
    public async Task A_reply_naming_another_items_or_another_tenants_file_is_refused_naming_the_field_and_sends_nothing()
    {
        using var host = WithSmtp();
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var itemId = await ConversationAsync($"hugo-{Guid.NewGuid():N}@example.org", "Mine");
        var otherItem = await ConversationAsync($"iris-{Guid.NewGuid():N}@example.org", "Someone else's");
        var othersFile = await UploadAsync(agent, "acme", otherItem, "her invoice"u8.ToArray(), "invoice.pdf", "application/pdf");
        var northwindAdmin = host.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var northwindItem = JsonDocument.Parse(await (await northwindAdmin.PostAsJsonAsync("/api/v1/tenants/northwind/conversations",
            new { from = "jo@example.org", name = "Jo", subject = "Other client", body = "Hi", externalId = Guid.NewGuid().ToString() })).Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var northwindFile = await UploadAsync(northwindAdmin, "northwind", northwindItem, "their file"u8.ToArray(), "secret.pdf", "application/pdf");

        foreach (var fileId in new[] { othersFile, northwindFile, Guid.NewGuid() })
        {
            var refused = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "See attached.", attachmentIds = new[] { fileId } });
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains("not a file of this item", problem.GetProperty("errors").GetProperty("attachmentIds")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.Empty(await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == itemId).ToListAsync()));
    }

    [Fact]
    public async Task A_reply_whose_files_pass_the_size_cap_or_that_goes_by_sms_is_refused_saying_why()
    {
        using var host = App.WithWebHostBuilder(b => b.UseSetting("Attachments:MaxReplyBytes", "1000"));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var itemId = await ConversationAsync($"jade-{Guid.NewGuid():N}@example.org", "Big files");
        var first = await UploadAsync(agent, "acme", itemId, new byte[600], "a.bin", "application/octet-stream");
        var second = await UploadAsync(agent, "acme", itemId, new byte[600], "b.bin", "application/octet-stream");

        var tooMuch = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Both.", attachmentIds = new[] { first, second } });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, tooMuch.StatusCode);
        Assert.Contains("at most 1000 bytes", JsonDocument.Parse(await tooMuch.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("attachmentIds")[0].GetString(), StringComparison.Ordinal);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "One.", attachmentIds = new[] { first } })).EnsureSuccessStatusCode();

        // A text message cannot carry a file: the reply is refused, not sent without the file the agent meant to send.
        await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == itemId).ExecuteUpdateAsync(u => u.SetProperty(w => w.Channel, "sms")));
        var bySms = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Label attached.", attachmentIds = new[] { first } });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bySms.StatusCode);
        Assert.Contains("only by email", JsonDocument.Parse(await bySms.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("attachmentIds")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_with_a_file_that_failed_to_reach_the_relay_carries_the_file_when_retried()
    {
        var itemId = await ConversationAsync($"kim-{Guid.NewGuid():N}@example.org", "Return label");
        var label = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        using (var down = WithSmtp(AppProcess.FreeLoopbackPort()))
        {
            var agent = down.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
            var labelId = await UploadAsync(agent, "acme", itemId, label, "label.png", "image/png");
            (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "Your label.", attachmentIds = new[] { labelId } })).EnsureSuccessStatusCode();
            await SendDueAsync(down);
        }

        Assert.Equal(OutboundState.Pending, (await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync(o => o.WorkItemId == itemId))).State);
        await App.InTenantAsync("acme", db => db.OutboundMessages.Where(o => o.WorkItemId == itemId).ExecuteUpdateAsync(u => u.SetProperty(o => o.NextAttemptAt, DateTime.UtcNow.AddMinutes(-1))));
        using var up = WithSmtp();
        await SendDueAsync(up);

        var customer = (await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync(o => o.WorkItemId == itemId))).To;
        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(customer), TimeSpan.FromSeconds(10));
        var file = Assert.Single(sent.Attachments.OfType<MimePart>());
        using var bytes = new MemoryStream();
        file.Content!.DecodeTo(bytes);
        Assert.Equal("label.png", file.FileName);
        Assert.Equal(label, bytes.ToArray());
    }
}
