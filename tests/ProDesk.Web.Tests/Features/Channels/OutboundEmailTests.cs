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
    public async Task An_unreachable_relay_is_retried_later_not_given_up()
    {
        // A port nothing listens on: the connection is refused at once.
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var host = WithSmtp(port);
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
