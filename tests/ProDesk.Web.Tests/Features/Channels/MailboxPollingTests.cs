using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using ProDesk.Testing;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>Mail fetched from a real IMAP server (Dovecot on loopback, started by tests/run.sh).</summary>
public sealed class MailboxPollingTests(ProDeskApp app) : PostgresTest(app)
{
    private readonly MailServers _servers = MailServers.FromEnvironment();

    private static MimeMessage Mail(string subject, string? messageId = null)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Lena Berg", "lena@example.se"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = subject;
        mail.MessageId = messageId ?? $"{Guid.NewGuid():N}@mail.example.se";
        mail.Body = new TextPart("plain") { Text = $"Body of {subject}" };
        return mail;
    }

    /// <summary>A fresh Dovecot user (its mailbox is created on first login) set up as acme's mailbox "support".</summary>
    private async Task<string> MailboxAsync(HttpClient admin, string key = "support", string? user = null)
    {
        user ??= $"acme-{Guid.NewGuid():N}";
        var response = await admin.PutAsJsonAsync($"/api/v1/tenants/acme/channels/email/mailboxes/{key}",
            new { host = _servers.Imap.Host, port = _servers.Imap.Port, useTls = false, userName = user, password = _servers.Imap.Password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return user;
    }

    private async Task<HttpClient> AdminAsync() => App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);

    private async Task PollAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<MailboxPolling>().RunAsync(CancellationToken.None);
    }

    private Task<List<string>> SubjectsAsync() =>
        App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().OrderBy(w => w.CreatedAt).Select(w => w.Subject).ToListAsync());

    [Fact]
    public async Task Unseen_mail_becomes_work_items_and_is_marked_seen_once_stored()
    {
        var user = await MailboxAsync(await AdminAsync());
        await _servers.AppendAsync(user, Mail("Invoice question"));
        await _servers.AppendAsync(user, Mail("Delivery address"));
        Assert.Equal(2, await _servers.UnseenCountAsync(user));

        await PollAsync();

        Assert.Equal(["Invoice question", "Delivery address"], await SubjectsAsync());
        Assert.Equal(0, await _servers.UnseenCountAsync(user));
        var mailbox = (await (await AdminAsync()).JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0];
        Assert.Equal(JsonValueKind.Null, mailbox.GetProperty("lastError").ValueKind);
        Assert.False(mailbox.TryGetProperty("password", out _));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_message_the_server_will_not_hand_out_holds_up_nothing_else_and_comes_in_once_it_can()
    {
        var admin = await AdminAsync();
        var user = await MailboxAsync(admin);
        await _servers.AppendAsync(user, Mail("Before the broken one"));
        await _servers.AppendAsync(user, Mail("Broken on the server"));
        await _servers.AppendAsync(user, Mail("After the broken one"));
        MailServers.SetReadable(user, "Broken on the server", readable: false);

        await PollAsync();

        // One refused FETCH used to fail the whole batch, every minute: nothing of the mailbox came in.
        Assert.Equal(["Before the broken one", "After the broken one"], await SubjectsAsync());
        Assert.Equal(1, await _servers.UnseenCountAsync(user));
        var mailbox = (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0];
        Assert.Contains("would not hand out", mailbox.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        MailServers.SetReadable(user, "Broken on the server", readable: true);
        await PollAsync();

        Assert.Equal(["Before the broken one", "After the broken one", "Broken on the server"], await SubjectsAsync());
        Assert.Equal(0, await _servers.UnseenCountAsync(user));
        Assert.Equal(JsonValueKind.Null, (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0].GetProperty("lastError").ValueKind);
    }

    [Fact]
    public async Task A_mail_sent_to_two_of_a_clients_mailboxes_is_one_conversation_with_one_acknowledgment()
    {
        var admin = await AdminAsync();
        var support = await MailboxAsync(admin, "support");
        var sales = await MailboxAsync(admin, "sales");
        // To: support@, Cc: sales@: each mailbox gets its copy of the one mail.
        var mail = Mail("Quote for 40 chairs", "quote-40@mail.example.se");
        await _servers.AppendAsync(support, mail);
        await _servers.AppendAsync(sales, mail);

        await PollAsync();

        Assert.Equal(["Quote for 40 chairs"], await SubjectsAsync());
        Assert.Single(await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().ToListAsync()));
        Assert.Equal(0, await _servers.UnseenCountAsync(support) + await _servers.UnseenCountAsync(sales));
        var copy = await App.InTenantAsync("acme", db => db.InboundMails.AsNoTracking().SingleAsync(m => m.State == ProDesk.Data.Channels.InboundMailState.Dropped));
        Assert.StartsWith("the same mail came in through mailbox", copy.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mail_its_mailbox_says_is_too_large_is_quarantined_from_the_stream_and_marked_seen()
    {
        await using var app = App.WithWebHostBuilder(b => b.UseSetting("Email:MaxBytes", "4096"));
        var user = await MailboxAsync(await AdminAsync());
        var big = Mail("Scanned contract");
        big.Body = new TextPart("plain") { Text = new string('x', 10_000) };
        await _servers.AppendAsync(user, big);
        await _servers.AppendAsync(user, Mail("Small one"));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MailboxPolling>().RunAsync(CancellationToken.None);
        }

        Assert.Equal(["Small one"], await SubjectsAsync());
        Assert.Equal(0, await _servers.UnseenCountAsync(user));
        var quarantined = await App.InTenantAsync("acme", db => db.InboundMails.AsNoTracking().SingleAsync(m => m.State == ProDesk.Data.Channels.InboundMailState.Quarantined));
        // Listed by what the server said of it, kept whole for a provider admin to reprocess.
        Assert.Equal(("Scanned contract", "lena@example.se", "larger than 4096 bytes"), (quarantined.Subject, quarantined.FromAddress, quarantined.Reason));
        var raw = await App.Services.GetRequiredService<RawMailStore>().ReadAsync(quarantined.TenantId, quarantined.RawSha256, CancellationToken.None);
        Assert.Equal(quarantined.Size, raw.Length);
        Assert.Contains(new string('x', 1000), System.Text.Encoding.ASCII.GetString(raw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mail_someone_read_in_their_own_client_after_it_arrived_is_still_taken_in_but_not_mail_read_before_setup()
    {
        var user = $"acme-{Guid.NewGuid():N}";
        await _servers.AppendAsync(user, Mail("Last year's thread"), seen: true);
        await MailboxAsync(await AdminAsync(), user: user);
        await PollAsync();

        // A colleague reads the shared inbox in webmail before the next poll.
        await _servers.AppendAsync(user, Mail("Read in webmail first"), seen: true);
        await _servers.AppendAsync(user, Mail("Still unread"));
        await PollAsync();
        await PollAsync();

        Assert.Equal(["Read in webmail first", "Still unread"], await SubjectsAsync());
    }

    [Fact]
    public async Task Mail_stored_before_a_crash_kept_it_unseen_is_not_taken_twice()
    {
        var user = await MailboxAsync(await AdminAsync());
        var mail = Mail("Taken in, never flagged", "crash-1@mail.example.se");
        await _servers.AppendAsync(user, mail);

        // The node took the mail in and died before flagging it \Seen: the mailbox still shows it unseen.
        var tenant = await App.TenantAsync("acme");
        await using (var scope = App.Services.CreateAsyncScope())
        {
            using var entered = TenantScopes.Enter(scope.ServiceProvider.GetRequiredService<TenantScopes>().ForTenant(tenant));
            await scope.ServiceProvider.GetRequiredService<IngestEmail>().HandleAsync("support", System.Text.Encoding.UTF8.GetBytes(mail.ToString()), null, CancellationToken.None);
        }

        // The same mail delivered twice into the mailbox is one mail too.
        await _servers.AppendAsync(user, mail);
        Assert.Equal(2, await _servers.UnseenCountAsync(user));

        await PollAsync();

        Assert.Equal(["Taken in, never flagged"], await SubjectsAsync());
        Assert.Equal(0, await _servers.UnseenCountAsync(user));
    }

    [Fact]
    public async Task A_folder_or_user_name_with_a_line_break_is_refused_naming_the_field()
    {
        var admin = await AdminAsync();
        foreach (var (body, field) in new (object Body, string Field)[]
        {
            (new { host = _servers.Imap.Host, userName = "u", password = "p", folder = "INBOX\r\nA1 LOGOUT" }, "folder"),
            (new { host = _servers.Imap.Host, userName = "u\r\nA1 LOGOUT", password = "p" }, "userName"),
            // LIST wildcards and blank names name no one folder.
            (new { host = _servers.Imap.Host, userName = "u", password = "p", folder = "*" }, "folder"),
            (new { host = _servers.Imap.Host, userName = "u", password = "p", folder = "Support/%" }, "folder"),
            (new { host = _servers.Imap.Host, userName = "u", password = "p", folder = "   " }, "folder"),
        })
        {
            var response = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/bad", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), field);
        }

        Assert.Equal(0, (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes")).GetArrayLength());
    }

    [Fact]
    public async Task An_account_folder_already_polled_for_a_tenant_is_refused_for_another_mailbox_or_tenant()
    {
        var admin = await AdminAsync();
        var user = await MailboxAsync(admin);
        object Same(string name) => new { host = _servers.Imap.Host.ToUpperInvariant(), port = _servers.Imap.Port, useTls = false, userName = name, password = _servers.Imap.Password };

        var otherTenant = await admin.PutAsJsonAsync("/api/v1/tenants/northwind/channels/email/mailboxes/shared", Same(user.ToUpperInvariant()));
        var sameTenant = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/billing", Same(user));
        var itself = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/support", Same(user));

        // Both would take in every mail, and answer each customer twice, from two companies.
        Assert.Equal(HttpStatusCode.Conflict, otherTenant.StatusCode);
        Assert.Contains("userName: this account's folder is already polled as mailbox 'support' of tenant 'acme'", await otherTenant.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, sameTenant.StatusCode);
        Assert.Equal(HttpStatusCode.OK, itself.StatusCode);
        Assert.Empty(await App.InTenantAsync("northwind", db => db.Mailboxes.AsNoTracking().ToListAsync()));
    }

    [Fact]
    public async Task The_same_account_typed_another_way_is_refused_for_another_client()
    {
        var admin = await AdminAsync();
        var created = await admin.PutAsJsonAsync("/api/v1/tenants/northwind/channels/email/mailboxes/imap1",
            new { host = "127.0.0.1", port = 14302, useTls = false, userName = "desk@northwind.test", password = "secret" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Probe round 20: "localhost" for "127.0.0.1" passed, and northwind's customers were answered by acme.
        foreach (var (host, port, user) in new (string, int, string)[]
        {
            ("localhost", 14302, "desk@northwind.test"),
            ("LOCALHOST.", 14302, "DESK@northwind.test"),
            ("127.0.0.1", 993, "desk@northwind.test"),
            ("::1", 14302, "desk@northwind.test"),
            ("localhost", 143, "desk"),
        })
        {
            var again = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/dup",
                new { host, port, useTls = false, userName = user, password = "secret" });
            Assert.True(again.StatusCode == HttpStatusCode.Conflict, $"{host}:{port} {user}: {again.StatusCode}");
            Assert.Contains("already polled as mailbox 'imap1' of tenant 'northwind'", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty(await App.InTenantAsync("acme", db => db.Mailboxes.AsNoTracking().ToListAsync()));
        // Another account on that server is another mailbox.
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/own",
            new { host = "localhost", port = 14302, useTls = false, userName = "desk@acme.test", password = "secret" })).StatusCode);
    }

    [Fact]
    public async Task A_new_password_saved_for_a_switched_off_mailbox_leaves_it_switched_off()
    {
        var admin = await AdminAsync();
        const string Url = "/api/v1/tenants/acme/channels/email/mailboxes/old";
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsJsonAsync(Url, new { host = "imap.example.test", userName = "x@acme.test", password = "Old-1", enabled = false })).StatusCode);

        var changed = await admin.PutAsJsonAsync(Url, new { host = "imap.example.test", userName = "x@acme.test", password = "NewPass-123" });

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.False((await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enabled").GetBoolean());
        Assert.False((await App.InTenantAsync("acme", db => db.Mailboxes.AsNoTracking().SingleAsync())).Enabled);
        var on = await admin.PutAsJsonAsync(Url, new { host = "imap.example.test", userName = "x@acme.test", enabled = true });
        Assert.True((await on.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task A_mailbox_that_cannot_be_read_is_shown_on_the_supervisors_wallboard_and_in_metrics_with_its_client()
    {
        var admin = await AdminAsync();
        // Nothing listens on port 1: every poll fails, and acme's customers' mail waits on its server.
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/main",
            new { host = "127.0.0.1", port = 1, useTls = false, userName = "support@acme.test", password = "secret" })).StatusCode);
        var supervisor = await App.SignedInAsync("supervisor@prodesk.test");
        Assert.DoesNotContain("failing-mailboxes", await supervisor.GetStringAsync("/supervisor?handler=Board"), StringComparison.Ordinal);

        await PollAsync();

        var board = await supervisor.GetStringAsync("/supervisor?handler=Board");
        Assert.Contains("data-testid=\"failing-mailboxes\"", board, StringComparison.Ordinal);
        Assert.Matches("acme</span> mailbox <strong>main</strong>: .+", board);
        var metrics = await admin.GetStringAsync("/metrics");
        Assert.Matches("(?m)^prodesk_mailbox_failing\\{[^}]*mailbox=\"main\",tenant=\"acme\"[^}]*\\} 1$", metrics);
    }

    [Fact]
    public async Task One_account_set_up_for_several_tenants_at_once_is_polled_for_one_of_them_only()
    {
        var admin = await AdminAsync();
        var body = new { host = "imap.example.test", port = 993, userName = "shared@example.test", password = "secret" };
        var answers = await Task.WhenAll(new[] { "acme", "merlion", "northwind", "sla-lab", "acme" }
            .Select((slug, i) => admin.PutAsJsonAsync($"/api/v1/tenants/{slug}/channels/email/mailboxes/inbox{i}", body)));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));

        // And one mailbox key saved several times at once: created once, then changed, never a 500.
        var same = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            admin.PutAsJsonAsync("/api/v1/tenants/merlion/channels/email/mailboxes/orders", new { host = "imap.example.test", port = 993, userName = "orders@example.test", password = "secret" })));
        Assert.Equal(1, same.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(same.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
    }

    [Fact]
    public async Task A_wrong_password_is_shown_on_the_mailbox_and_leaves_the_mail_waiting()
    {
        var admin = await AdminAsync();
        var user = await MailboxAsync(admin);
        await _servers.AppendAsync(user, Mail("Waiting"));
        var changed = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/support",
            new { host = _servers.Imap.Host, port = _servers.Imap.Port, useTls = false, userName = user, password = "wrong" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        await PollAsync();

        Assert.Empty(await SubjectsAsync());
        Assert.Equal(1, await _servers.UnseenCountAsync(user));
        var mailbox = (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0];
        Assert.StartsWith("Sign-in refused", mailbox.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // A refused sign-in is not tried again every minute (that locks accounts out), until the mailbox is saved again.
        await PollAsync();
        Assert.Equal(mailbox.GetProperty("lastPolledAt").GetDateTime(), (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0].GetProperty("lastPolledAt").GetDateTime());
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/support",
            new { host = _servers.Imap.Host, port = _servers.Imap.Port, useTls = false, userName = user, password = _servers.Imap.Password })).StatusCode);
        await PollAsync();
        Assert.Equal(["Waiting"], await SubjectsAsync());

        var bad = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/email/mailboxes/other", new { host = "", port = 70000, userName = "" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["host", "password", "port", "userName"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task A_watched_mailbox_turns_new_mail_into_a_work_item_within_seconds()
    {
        using var watching = App.WithWebHostBuilder(b => b.UseSetting("Email:Watch", "true").UseSetting("Email:WatchRefreshSeconds", "1"));
        var admin = watching.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var user = await MailboxAsync(admin);

        // The watcher polls a mailbox once when it starts watching it, then waits in IDLE: mail appended after
        // that first poll reaches the desk through IDLE (the minute's recurring poll would be far slower).
        await UntilAsync(async () => (await admin.JsonAsync("/api/v1/tenants/acme/channels/email/mailboxes"))[0].GetProperty("lastPolledAt").ValueKind != JsonValueKind.Null, TimeSpan.FromSeconds(20));
        await _servers.AppendAsync(user, Mail("Arrives while idle"));
        await UntilAsync(async () => (await SubjectsAsync()).Count > 0, TimeSpan.FromSeconds(10));

        Assert.Equal(["Arrives while idle"], await SubjectsAsync());
        Assert.Equal(0, await _servers.UnseenCountAsync(user));
    }

    /// <summary>Waits for an outside server and the app's watcher (not a timer of ours), bounded.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {limit.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
