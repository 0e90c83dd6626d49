using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using ProDesk.Data.Channels;
using ProDesk.Domain.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Mail out over SMTP with MailKit: the tenant's From address, a Reply-To carrying the signed item
/// token, In-Reply-To/References so the customer's client threads it, Auto-Submitted on automatic
/// mail (RFC 3834) and our origin header, so our own mail coming back is recognised and dropped.
/// Every header value is built by MimeKit from cleaned text: no field can inject a header.
/// </summary>
public sealed class SmtpEmailSender(IOptions<SmtpOptions> options, ProDeskPaths paths) : IOutboundSender
{
    /// <summary>Names the tenant a mail came from; a mail carrying the receiving tenant's own id came back to us.</summary>
    public const string OriginHeader = "X-ProDesk-Origin";

    public IReadOnlyCollection<string> Channels { get; } = ["email"];

    public async Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken)
    {
        var mail = Build(message, settings, tenantName);
        var smtp = options.Value;
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            var folder = Path.Combine(paths.DataDirectory, smtp.PickupDirectory ?? "mail-outbox");
            Directory.CreateDirectory(folder);
            await mail.WriteToAsync(Path.Combine(folder, $"{message.Id:N}.eml"), cancellationToken);
            return;
        }

        using var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(smtp.Host, smtp.Port, Enum.Parse<SecureSocketOptions>(smtp.Security, ignoreCase: true), cancellationToken);
            if (!string.IsNullOrEmpty(smtp.UserName))
            {
                await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
            }

            await client.SendAsync(mail, cancellationToken);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500 && e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted)
        {
            throw new PermanentSendFailureException($"refused by the relay: {(int)e.StatusCode} {e.Message}", e);
        }
        finally
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(quit: true, CancellationToken.None);
            }
        }
    }

    /// <summary>The MIME message for <paramref name="message"/>; public for tests of its headers.</summary>
    public static MimeMessage Build(OutboundMessage message, ChannelSettings settings, string tenantName)
    {
        var support = settings.SupportAddress ?? "support@localhost";
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(HeaderText.Clean(tenantName), support));
        mail.ReplyTo.Add(new MailboxAddress(HeaderText.Clean(tenantName), ReplyToken.ReplyAddress(support, ReplyToken.Create(message.TenantId, message.WorkItemId, settings.ReplyTokenKey))));
        if (!MailboxAddress.TryParse(message.To, out var to))
        {
            throw new PermanentSendFailureException("the recipient is not an email address");
        }

        mail.To.Add(new MailboxAddress(HeaderText.Clean(message.ToName ?? ""), to.Address));
        mail.Subject = HeaderText.Clean(message.Subject ?? "");
        mail.MessageId = message.InternetMessageId ?? MimeKit.Utils.MimeUtils.GenerateMessageId();
        if (!string.IsNullOrEmpty(message.InReplyTo))
        {
            mail.InReplyTo = message.InReplyTo;
        }

        foreach (var reference in (message.References ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            mail.References.Add(reference);
        }

        if (message.Automatic)
        {
            mail.Headers.Add("Auto-Submitted", "auto-replied");
            mail.Headers.Add("X-Auto-Response-Suppress", "All");
        }

        mail.Headers.Add(OriginHeader, message.TenantId.ToString("N"));
        mail.Body = new TextPart("plain") { Text = message.Body };
        return mail;
    }
}

/// <summary>Text bound for a header: no line breaks or other control characters, at most 400 characters.</summary>
public static class HeaderText
{
    public static string Clean(string value)
    {
        var chars = value.Where(c => !char.IsControl(c)).Take(400).ToArray();
        return new string(chars).Trim();
    }
}
