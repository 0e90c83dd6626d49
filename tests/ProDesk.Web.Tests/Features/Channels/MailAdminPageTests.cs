using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>The provider admin's mail page (/admin/mail): quarantined mail is listed, encoded, and reprocessed from there.</summary>
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
}
