using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tests.Infrastructure;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// Raw mail is not kept forever: after Email:RawRetentionDays (90) the bytes of mail taken in or dropped go, in every
/// tenant, while quarantined mail, newer mail and the messages' files stay, and the ledger says the copy is gone.
/// The job runs on a clock of its own, set where the test needs it: moving the app's shared test clock months on would
/// fire every periodic timer of the app once per period on the way.
/// </summary>
public sealed class RawMailRetentionTests(SlaApp app) : SlaTest(app)
{
    [Fact]
    public async Task Raw_mail_older_than_the_retention_goes_in_every_tenant_but_quarantined_mail_newer_mail_and_files_stay()
    {
        var acmeOld = await PostAsync(Mail("Old leak", withFile: true), "acme");
        var northwindOld = await PostAsync(Mail("Old invoice", "northwind"), "northwind");
        var quarantined = await PostAsync(Unparseable(), "acme");
        var received = App.Clock.GetUtcNow();
        App.Clock.Advance(TimeSpan.FromDays(2));
        var acmeRecent = await PostAsync(Mail("Recent leak"), "acme");
        var later = received + TimeSpan.FromDays(91);

        var file = await App.InTenantAsync("acme", db => db.WorkItemAttachments.AsNoTracking().SingleAsync());
        var paths = App.Services.GetRequiredService<ProDeskPaths>();
        Assert.All(new[] { acmeOld, northwindOld, quarantined, acmeRecent }, m => Assert.True(File.Exists(RawPath(m))));

        Assert.Equal(2, await RunAsync(later));

        Assert.False(File.Exists(RawPath(acmeOld)));
        Assert.False(File.Exists(RawPath(northwindOld)));
        Assert.True(File.Exists(RawPath(quarantined)), "quarantined mail may be reprocessed");
        Assert.True(File.Exists(RawPath(acmeRecent)), "89 days old is within the retention");
        Assert.True(File.Exists(Attachments.BlobPath(paths, file.TenantId, file.Id)), "the message's file is the item's");
        var removed = await App.InTenantAsync("acme", db => db.InboundMails.AsNoTracking().SingleAsync(m => m.Id == acmeOld.Id));
        Assert.Equal(later.UtcDateTime, removed.RawRemovedAt);
        Assert.Equal(InboundMailState.Ingested, removed.State);
        Assert.Null((await App.InTenantAsync("acme", db => db.InboundMails.AsNoTracking().SingleAsync(m => m.Id == quarantined.Id))).RawRemovedAt);

        // A second run finds nothing more to do; the same mail delivered again is still known (its ledger row stays).
        Assert.Equal(0, await RunAsync(later));
        var again = await PostRawAsync(acmeOld.Raw, "acme");
        Assert.Equal("duplicate", (await JsonDocument.ParseAsync(await again.Content.ReadAsStreamAsync())).RootElement.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Reprocessing_a_mail_whose_raw_copy_went_says_so_and_another_tenant_still_gets_a_bare_404()
    {
        var old = await PostAsync(Mail("Old leak"), "acme");
        // A read receipt is dropped, and a dropped mail can be taken in later (while its bytes are kept).
        var receipt = await PostAsync(Encoding.UTF8.GetBytes("From: Ann <ann@example.org>\r\nTo: support@acme.test\r\nMessage-ID: <receipt-old@example.org>\r\nSubject: Read: Old leak\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
            + "--b\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; ann@example.org\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n"), "acme");
        Assert.Equal(2, await RunAsync(App.Clock.GetUtcNow() + TimeSpan.FromDays(91)));

        // The mail taken in still answers with its item: that needs no bytes.
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var ingested = await admin.PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{old.Id}/reprocess", null);
        Assert.Equal(HttpStatusCode.OK, ingested.StatusCode);
        Assert.Contains("\"duplicate\"", await ingested.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The dropped one can no longer be taken in, and the answer says why.
        var answer = await admin.PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{receipt.Id}/reprocess", null);
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Contains("raw copy removed after 91 days (the mail was dropped)", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var elsewhere = await admin.PostAsync($"/api/v1/tenants/northwind/channels/email/quarantine/{receipt.Id}/reprocess", null);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.DoesNotContain("raw copy", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retention_of_zero_keeps_raw_mail_forever()
    {
        var old = await PostAsync(Mail("Old leak"), "acme");

        Assert.Equal(0, await RunAsync(App.Clock.GetUtcNow() + TimeSpan.FromDays(3650), days: 0));
        Assert.True(File.Exists(RawPath(old)));
    }

    private sealed record Stored(Guid Id, Guid TenantId, string Sha256, byte[] Raw);

    private string RawPath(Stored mail) => App.Services.GetRequiredService<RawMailStore>().PathOf(mail.TenantId, mail.Sha256);

    /// <summary>The hourly job as it runs at <paramref name="at"/>, keeping raw mail <paramref name="days"/> days (the default).</summary>
    private async Task<int> RunAsync(DateTimeOffset at, int days = 90)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var retention = ActivatorUtilities.CreateInstance<RawMailRetention>(scope.ServiceProvider,
            new FakeTimeProvider(at), Microsoft.Extensions.Options.Options.Create(new EmailOptions { RawRetentionDays = days }));
        return await retention.RunAsync(CancellationToken.None);
    }

    private static byte[] Mail(string subject, string slug = "acme", bool withFile = false)
    {
        var body = new TextPart("plain") { Text = "The kitchen tap drips." };
        var mail = new MimeMessage { Subject = subject, MessageId = $"{Guid.NewGuid():N}@mail.example.fr" };
        mail.From.Add(new MailboxAddress("Marie Curie", "marie@example.fr"));
        mail.To.Add(MailboxAddress.Parse($"support@{slug}.test"));
        mail.Body = withFile
            ? new Multipart("mixed") { body, new MimePart("image", "png") { Content = new MimeContent(new MemoryStream([1, 2, 3, 4])), FileName = "tap.png" } }
            : body;
        using var bytes = new MemoryStream();
        mail.WriteTo(bytes);
        return bytes.ToArray();
    }

    private static byte[] Unparseable() => Encoding.UTF8.GetBytes("From: Mallory <mallory@evil.example>\r\nTo: support@acme.test\r\nSubject: Broken\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n");

    private async Task<Stored> PostAsync(byte[] raw, string slug)
    {
        var answer = await PostRawAsync(raw, slug);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        var id = (await JsonDocument.ParseAsync(await answer.Content.ReadAsStreamAsync())).RootElement.GetProperty("id").GetGuid();
        var row = await App.InTenantAsync(slug, db => db.InboundMails.AsNoTracking().SingleAsync(m => m.Id == id));
        return new Stored(row.Id, row.TenantId, row.RawSha256, raw);
    }

    private async Task<HttpResponseMessage> PostRawAsync(byte[] raw, string slug)
    {
        var content = new ByteArrayContent(raw);
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, $"demo-{slug}-inbound-key-0123456789");
        return await App.CreateClient().PostAsync($"/channels/email/{slug}/inbound", content);
    }
}
