using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Identity.Accounts;

/// <summary>
/// Mail to a person about their own account (an invitation, a password link), through the relay every other mail
/// leaves by (section "Smtp"; without a host, the pickup folder). Not an <c>OutboundMessage</c>: those belong to a
/// tenant's work item, and a member of staff has neither; nor is the link stored anywhere, as it sets a password.
/// Queued in memory and sent by this node's background loop, so a request answers at once whether or not a mail
/// goes out: the "forgot your password" form must take as long for an unknown address as for a known one. A mail
/// lost to a restart is asked for again (the form, or the admin's "send the invitation again").
/// </summary>
public sealed class AccountMail(IOptions<SmtpOptions> smtp, ProDeskPaths paths, TimeProvider clock, ILogger<AccountMail> log) : BackgroundService
{
    private static readonly TimeSpan[] Retries = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)];

    // Bounded: a flood of password requests must not hold unbounded memory; past it the newest is dropped (and said).
    private readonly Channel<MimeMessage> _queue = Channel.CreateBounded<MimeMessage>(new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Queues a plain-text mail to one person.</summary>
    public void Enqueue(string to, string toName, string subject, string body)
    {
        var mail = new MimeMessage();
        var options = smtp.Value;
        mail.From.Add(new MailboxAddress("ProDesk", $"no-reply@{options.MessageIdDomain}"));
        mail.To.Add(new MailboxAddress(HeaderText.Clean(toName), to));
        mail.Subject = HeaderText.Clean(subject);
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(options.MessageIdDomain);
        // Automatic mail (RFC 3834): an out-of-office answering it would go nowhere useful.
        mail.Headers.Add("Auto-Submitted", "auto-generated");
        mail.Body = new TextPart("plain") { Text = body };
        if (!_queue.Writer.TryWrite(mail))
        {
            log.LogWarning("Account mail queue full: a mail to a user was dropped");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var mail in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await SendAsync(mail, stoppingToken);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException && attempt < Retries.Length)
                {
                    log.LogWarning(e, "Account mail not sent (attempt {Attempt}); trying again in {Delay}", attempt + 1, Retries[attempt]);
                    await Task.Delay(Retries[attempt], clock, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The person asks again; the link is in no log.
                    log.LogError(e, "Account mail given up after {Attempts} attempts", attempt + 1);
                    break;
                }
            }
        }
    }

    private async Task SendAsync(MimeMessage mail, CancellationToken cancellationToken)
    {
        var options = smtp.Value;
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            await SmtpEmailSender.WriteToPickupAsync(paths, options, Guid.NewGuid().ToString("N"), mail, cancellationToken);
            return;
        }

        // Account mail is rare: a connection of its own each time, not the reply sender's pool.
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(options.Host, options.Port, Enum.Parse<SecureSocketOptions>(options.Security, ignoreCase: true), cancellationToken);
        if (!string.IsNullOrEmpty(options.UserName))
        {
            await client.AuthenticateAsync(options.UserName, options.Password ?? "", cancellationToken);
        }

        await client.SendAsync(mail, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}
