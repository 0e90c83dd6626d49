using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using ProDesk.Testing;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// The mail servers the email channel's tests run against are real and behave as the channel will
/// need: Dovecot IMAP takes a message into any mailbox, finds it unseen and tells an IDLE connection
/// at once, and the SMTP sink keeps each message with its envelope. No app, no database.
/// </summary>
public sealed class MailServersTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly MailServers _mail = MailServers.FromEnvironment();

    [Fact]
    public async Task A_message_appended_to_a_new_mailbox_is_found_unseen_in_its_inbox()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var user = $"acme-support-{Guid.NewGuid():N}";
        var message = Message("customer@example.test", $"{user}@acme.test", "Printer on fire");

        await _mail.AppendAsync(user, message, cancellationToken: timeout.Token);

        Assert.Equal(1, await _mail.UnseenCountAsync(user, timeout.Token));
        using var client = await _mail.ConnectImapAsync(user, timeout.Token);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, timeout.Token);
        var unseen = await client.Inbox.SearchAsync(SearchQuery.NotSeen, timeout.Token);
        var read = await client.Inbox.GetMessageAsync(Assert.Single(unseen), timeout.Token);
        Assert.Equal(message.MessageId, read.MessageId);
        Assert.Equal("Printer on fire", read.Subject);
        Assert.Equal("customer@example.test", Assert.IsType<MailboxAddress>(Assert.Single(read.From)).Address);
    }

    [Fact]
    public async Task An_idle_connection_hears_of_a_message_appended_by_another()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var user = $"acme-support-{Guid.NewGuid():N}";
        using var idler = await _mail.ConnectImapAsync(user, timeout.Token);
        Assert.True(idler.Capabilities.HasFlag(ImapCapabilities.Idle));
        await idler.Inbox.OpenAsync(FolderAccess.ReadOnly, timeout.Token);
        Assert.Equal(0, idler.Inbox.Count);

        using var done = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        idler.Inbox.CountChanged += (_, _) => done.Cancel();
        var idle = idler.IdleAsync(done.Token, timeout.Token);
        await _mail.AppendAsync(user, Message("customer@example.test", $"{user}@acme.test", "Anyone there?"), cancellationToken: timeout.Token);
        await idle;

        Assert.False(timeout.IsCancellationRequested, "IDLE did not report the new message in time");
        Assert.Equal(1, idler.Inbox.Count);
    }

    [Fact]
    public async Task A_message_sent_over_smtp_lands_in_the_sink_with_its_envelope()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var customer = $"customer-{Guid.NewGuid():N}@example.test";
        var watcher = $"watcher-{Guid.NewGuid():N}@example.test";
        var message = Message("support@acme.test", customer, "Re: Printer on fire");

        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync(_mail.Smtp.Host, _mail.Smtp.Port, SecureSocketOptions.None, timeout.Token);
            // The watcher is only on the envelope (a Bcc): the sink must keep what the headers do not say.
            await smtp.SendAsync(message, MailboxAddress.Parse("bounces@acme.test"), [MailboxAddress.Parse(customer), MailboxAddress.Parse(watcher)], timeout.Token);
            await smtp.DisconnectAsync(quit: true, timeout.Token);
        }

        var sent = await _mail.WaitForSentAsync(m => m.EnvelopeTo().Contains(customer), Patience, timeout.Token);
        Assert.Equal(message.MessageId, sent.MessageId);
        Assert.Equal("Re: Printer on fire", sent.Subject);
        Assert.Equal("bounces@acme.test", sent.EnvelopeFrom());
        Assert.Equal([customer, watcher], sent.EnvelopeTo());
        Assert.DoesNotContain(watcher, sent.To.Mailboxes.Select(m => m.Address));
        Assert.Contains("Hello from the test", sent.TextBody, StringComparison.Ordinal);
        Assert.Single(await _mail.SentAsync(m => m.EnvelopeTo().Contains(watcher), timeout.Token));
    }

    private static MimeMessage Message(string from, string to, string subject)
    {
        var message = new MimeMessage
        {
            Subject = subject,
            MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("test.prodesk"),
            Body = new TextPart("plain") { Text = "Hello from the test.\nSecond line." },
        };
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        return message;
    }
}
