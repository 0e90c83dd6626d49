using System.Collections.Concurrent;
using MailKit;
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
/// A connection to the relay is kept for the next mail (at most <see cref="IdleLifetime"/> idle and
/// <see cref="MessagesPerConnection"/> mails), so a batch does not pay a connect, TLS and login per mail;
/// one the relay closed meanwhile is replaced and the mail sent on a fresh one (decision 44).
/// </summary>
public sealed class SmtpEmailSender(IOptions<SmtpOptions> options, ProDeskPaths paths, TimeProvider clock) : IOutboundSender, IAsyncDisposable
{
    /// <summary>Names the tenant a mail came from; a mail carrying the receiving tenant's own id came back to us.</summary>
    public const string OriginHeader = "X-ProDesk-Origin";

    /// <summary>Relays drop idle sessions after a few minutes (Postfix: 5); ours are closed well before.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(30);

    /// <summary>Some relays cap the mails per session; we stay under the usual caps.</summary>
    public const int MessagesPerConnection = 100;

    private const int MaxIdleConnections = 4;

    private readonly ConcurrentQueue<Connection> _idle = new();

    public IReadOnlyCollection<string> Channels { get; } = ["email"];

    /// <summary>
    /// Without a relay host: the mail as {name}.eml in the pickup folder (<c>Smtp:PickupDirectory</c>, under the data
    /// directory), owner-only like the rest of it. Used by <see cref="Identity.Accounts.AccountMail"/> too.
    /// </summary>
    public static async Task WriteToPickupAsync(ProDeskPaths paths, SmtpOptions smtp, string name, MimeMessage mail, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(paths.DataDirectory, smtp.PickupDirectory ?? "mail-outbox");
        PrivateFiles.CreateDirectory(folder);
        // As MailKit prepares a mail it sends: 7-bit transfer encodings and lines within RFC 5322's 998, so an MTA
        // picking the file up can relay it as it is (a raw UTF-8 body with long lines and no Content-Transfer-Encoding is not).
        mail.Prepare(EncodingConstraint.SevenBit, 998);
        // Written under another name and then renamed, so whatever picks the folder up never reads half a mail.
        var partial = Path.Combine(folder, $"{name}.partial");
        await using (var file = PrivateFiles.Open(partial, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await mail.WriteToAsync(file, cancellationToken);
        }

        File.Move(partial, Path.Combine(folder, $"{name}.eml"), overwrite: true);
    }

    public async Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken)
    {
        // Disposed after the send: it holds the reply's files open (read from their blobs at this attempt, streamed, never held whole).
        using var mail = Build(message, settings, tenantName, paths);
        var smtp = options.Value;
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            await WriteToPickupAsync(paths, smtp, $"{message.Id:N}", mail, cancellationToken);
            return;
        }

        try
        {
            if (await TakeIdleAsync() is { } kept)
            {
                try
                {
                    await SendOnAsync(kept, mail, cancellationToken);
                    return;
                }
                catch (Exception e) when (e is ServiceNotConnectedException or IOException or SmtpProtocolException)
                {
                    // The relay closed the idle session (a restart, its own timeout): the mail goes on a fresh one.
                }
            }

            var connection = new Connection(new SmtpClient { Timeout = 30_000 });
            try
            {
                await connection.Client.ConnectAsync(smtp.Host, smtp.Port, Enum.Parse<SecureSocketOptions>(smtp.Security, ignoreCase: true), cancellationToken);
                if (!string.IsNullOrEmpty(smtp.UserName))
                {
                    await connection.Client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
                }
            }
            catch
            {
                await CloseAsync(connection);
                throw;
            }

            await SendOnAsync(connection, mail, cancellationToken);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500 && e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted)
        {
            throw new PermanentSendFailureException($"refused by the relay: {(int)e.StatusCode} {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryDequeue(out var connection))
        {
            await CloseAsync(connection);
        }
    }

    /// <summary>Sends on <paramref name="connection"/>, then keeps it for the next mail or closes it; a failed one is closed.</summary>
    private async Task SendOnAsync(Connection connection, MimeMessage mail, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Client.SendAsync(mail, cancellationToken);
        }
        catch
        {
            await CloseAsync(connection);
            throw;
        }

        connection.Sent++;
        connection.IdleSince = clock.GetUtcNow();
        if (connection.Sent < MessagesPerConnection && _idle.Count < MaxIdleConnections)
        {
            _idle.Enqueue(connection);
        }
        else
        {
            await CloseAsync(connection);
        }
    }

    private async Task<Connection?> TakeIdleAsync()
    {
        while (_idle.TryDequeue(out var connection))
        {
            if (connection.Client.IsConnected && clock.GetUtcNow() - connection.IdleSince < IdleLifetime)
            {
                return connection;
            }

            await CloseAsync(connection);
        }

        return null;
    }

    private static async Task CloseAsync(Connection connection)
    {
        try
        {
            if (connection.Client.IsConnected)
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await connection.Client.DisconnectAsync(quit: true, quit.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SmtpProtocolException or ServiceNotConnectedException)
        {
            // Gone already; nothing to say goodbye to.
        }
        finally
        {
            connection.Client.Dispose();
        }
    }

    private sealed class Connection(SmtpClient client)
    {
        public SmtpClient Client { get; } = client;

        public int Sent { get; set; }

        public DateTimeOffset IdleSince { get; set; }
    }

    /// <summary>
    /// The MIME message for <paramref name="message"/>; public for tests of its headers. A reply with files is
    /// multipart/mixed: the text, then each file from its blob under <paramref name="paths"/>, opened for reading (the
    /// caller disposes the message to close them). A file no longer stored fails the send for good, naming it.
    /// </summary>
    public static MimeMessage Build(OutboundMessage message, ChannelSettings settings, string tenantName, ProDeskPaths? paths = null)
    {
        var support = settings.SupportAddress ?? "support@localhost";
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(HeaderText.Clean(tenantName), support));
        mail.ReplyTo.Add(new MailboxAddress(HeaderText.Clean(tenantName), ReplyToken.ReplyAddress(support, ReplyToken.Create(message.TenantId, message.WorkItemId, settings.ReplyTokenKey))));
        if (!MailboxAddress.TryParse(message.To, out var to))
        {
            throw new PermanentSendFailureException("the recipient is not an email address");
        }

        // A contact known only by its address has it as its name: To then carries the address alone, not "a@x" <a@x>.
        mail.To.Add(new MailboxAddress(HeaderText.Clean(DisplayName.Of(message.ToName, to.Address) ?? ""), to.Address));
        // Copies were normalized when the reply was written (MailCopies); one that would not parse now is left out, not the mail.
        foreach (var copy in MailCopies.Split(message.Cc))
        {
            if (MailboxAddress.TryParse(copy, out var cc) && !string.Equals(cc.Address, to.Address, StringComparison.OrdinalIgnoreCase))
            {
                mail.Cc.Add(new MailboxAddress("", cc.Address));
            }
        }
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
        var text = new TextPart("plain") { Text = message.Body };
        var files = WorkItems.ReplyFiles.Read(message.AttachmentsJson);
        if (files.Count == 0)
        {
            mail.Body = text;
            return mail;
        }

        var mixed = new Multipart("mixed") { text };
        mail.Body = mixed;
        foreach (var file in files)
        {
            var path = paths is null ? null : WorkItems.Attachments.BlobPath(paths, message.TenantId, file.Id);
            if (path is null || !File.Exists(path))
            {
                mail.Dispose();
                throw new PermanentSendFailureException($"the file \"{file.FileName}\" is no longer stored");
            }

            mixed.Add(new MimePart(ContentType.TryParse(file.ContentType, out var type) ? type : new ContentType("application", "octet-stream"))
            {
                Content = new MimeContent(File.OpenRead(path)),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                // MimeKit writes a non-ASCII name as RFC 2231 (filename*=utf-8''...), which every current client reads.
                FileName = file.FileName,
            });
        }

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
