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
}
