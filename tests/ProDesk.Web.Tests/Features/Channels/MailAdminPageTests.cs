using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>The provider admin's mail page (/admin/mail) and the quarantine API: quarantined mail is listed, encoded, reprocessed or discarded.</summary>
public sealed class MailAdminPageTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_provider_admin_sees_quarantined_mail_encoded_and_takes_it_in_again()
    {
        // Unparseable (no boundary parameter), with a hostile subject and sender that must show as text.
        var raw = "From: \"<script>alert(1)</script>\" <eve@example.org>\r\nTo: support@acme.test\r\nSubject: <img src=x onerror=alert(1)>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.Equal(HttpStatusCode.Accepted, (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).StatusCode);

        var admin = await App.SignedInAsync("admin@prodesk.test");
        var page = await admin.GetStringAsync("/admin/mail/acme");
        Assert.Contains("data-testid=\"quarantine\"", page, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", page, StringComparison.Ordinal);

        var mailId = await App.InTenantAsync("acme", db => db.InboundMails.Select(m => m.Id).SingleAsync());
        var token = await Browserless.AntiforgeryTokenAsync(admin, "/admin/mail/acme");
        var posted = await admin.PostAsync($"/admin/mail/acme?handler=Reprocess&id={mailId}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Found, posted.StatusCode);
        Assert.Contains("Still quarantined", await admin.GetStringAsync(posted.Headers.Location!), StringComparison.Ordinal);
        // Shown once, and only what the server said: a link cannot put words of its own on the page.
        Assert.DoesNotContain("Still quarantined", await admin.GetStringAsync("/admin/mail/acme"), StringComparison.Ordinal);
        Assert.DoesNotContain("Security alert", await admin.GetStringAsync("/admin/mail/acme?message=Security+alert%3A+sign+in+at+evil.example"), StringComparison.Ordinal);

        foreach (var who in new[] { "supervisor@prodesk.test", "admin@acme.test" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await (await App.SignedInAsync(who)).GetAsync("/admin/mail/acme")).StatusCode);
        }
    }

    [Fact]
    public async Task A_provider_admin_sees_dropped_mail_and_takes_it_in_from_the_page()
    {
        // A read receipt is dropped: it would only reopen the item it answers.
        var raw = "From: Ann <ann@example.org>\r\nTo: support@acme.test\r\nMessage-ID: <receipt-1@example.org>\r\nSubject: Read: Printer jammed\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/plain\r\n\r\nYour message was read. Also: the printer on floor 3 is jammed too.\r\n"
            + "--b\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; ann@example.org\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.Equal(HttpStatusCode.Accepted, (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).StatusCode);
        var mailId = await App.InTenantAsync("acme", db => db.InboundMails.Where(m => m.State == ProDesk.Data.Channels.InboundMailState.Dropped).Select(m => m.Id).SingleAsync());

        var admin = await App.SignedInAsync("admin@prodesk.test");
        var page = await admin.GetStringAsync("/admin/mail/acme");
        Assert.Contains("data-testid=\"dropped\"", page, StringComparison.Ordinal);
        Assert.Contains("Read: Printer jammed", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"quarantine-empty\"", page, StringComparison.Ordinal);

        var token = await Browserless.AntiforgeryTokenAsync(admin, "/admin/mail/acme");
        var posted = await admin.PostAsync($"/admin/mail/acme?handler=Reprocess&id={mailId}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Found, posted.StatusCode);
        var after = await admin.GetStringAsync(posted.Headers.Location!);
        Assert.Contains($"Mail {mailId} was taken in (created).", after, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"dropped-empty\"", after, StringComparison.Ordinal);
        var item = await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().SingleAsync());
        Assert.Equal("Read: Printer jammed", item.Subject);
        Assert.False(await App.InTenantAsync("acme", db => db.OutboundMessages.AnyAsync()));

        // The same button again: the same item, nothing new.
        var again = await admin.PostAsync($"/admin/mail/acme?handler=Reprocess&id={mailId}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Contains($"Mail {mailId} was taken in already, as item {item.Id}.", await admin.GetStringAsync(again.Headers.Location!), StringComparison.Ordinal);
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    private async Task<Guid> UnparseableMailAsync(string messageId, HttpStatusCode answer = HttpStatusCode.Accepted)
    {
        var raw = $"From: eve@example.org\r\nTo: support@acme.test\r\nMessage-ID: <{messageId}>\r\nSubject: Junk {messageId}\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.Equal(answer, (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).StatusCode);
        return await App.InTenantAsync("acme", db => db.InboundMails.Where(m => m.Subject == $"Junk {messageId}").Select(m => m.Id).SingleAsync());
    }

    [Fact]
    public async Task A_provider_admin_discards_quarantined_junk_for_good_and_the_discard_is_audited()
    {
        var api = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var junk = await UnparseableMailAsync("junk-1@example.org");
        var rawFile = await App.InTenantAsync("acme", db => db.InboundMails.Where(m => m.Id == junk).Select(m => m.RawSha256).SingleAsync());
        var store = App.Services.GetRequiredService<RawMailStore>();
        var tenant = await App.TenantAsync("acme");
        Assert.True(File.Exists(store.PathOf(tenant.Id, rawFile)));

        // Another client's admin route, or another tenant's id, finds nothing.
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync($"/api/v1/tenants/northwind/channels/email/quarantine/{junk}/discard", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await (await App.SignedInAsync("admin@acme.test")).PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{junk}/discard", null)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await api.PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{junk}/discard", null)).StatusCode);

        Assert.Empty((await api.JsonAsync("/api/v1/tenants/acme/channels/email/quarantine")).GetProperty("items").EnumerateArray());
        Assert.False(File.Exists(store.PathOf(tenant.Id, rawFile)));
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{junk}/discard", null)).StatusCode);
        var audit = await App.InTenantAsync("acme", db => db.AuditEvents.AsNoTracking().SingleAsync(a => a.Action == DiscardQuarantinedMail.Action));
        Assert.Equal(("admin@prodesk.test", junk.ToString(), (Guid?)tenant.Id), (audit.ActorName, audit.Target, audit.TenantId));
        // The same junk delivered again is a duplicate, not back on the list.
        await UnparseableMailAsync("junk-1@example.org", HttpStatusCode.OK);
        Assert.Empty((await api.JsonAsync("/api/v1/tenants/acme/channels/email/quarantine")).GetProperty("items").EnumerateArray());

        // From the page too.
        var other = await UnparseableMailAsync("junk-2@example.org");
        var admin = await App.SignedInAsync("admin@prodesk.test");
        var token = await Browserless.AntiforgeryTokenAsync(admin, "/admin/mail/acme");
        var posted = await admin.PostAsync($"/admin/mail/acme?handler=Discard&id={other}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Found, posted.StatusCode);
        var page = await admin.GetStringAsync(posted.Headers.Location!);
        Assert.Contains($"Mail {other} was discarded.", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"quarantine-empty\"", page, StringComparison.Ordinal);
    }
}
