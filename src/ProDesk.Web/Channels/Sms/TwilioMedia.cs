using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Realtime;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// The photos and files of an MMS or WhatsApp message, fetched from Twilio once the message is stored (a slow or failed
/// fetch never costs the customer's words) and attached to it as a mail's files are. The links stay in the message's
/// text, so a file that could not be fetched is still reachable there. Only URLs on the configured Twilio API host are
/// fetched, with the account's basic auth: the form names any URL it likes, and the desk must not be made to call
/// into its own network (SSRF).
/// </summary>
public sealed partial class TwilioMedia(
    ProDeskDbContext db, IHttpClientFactory clients, IOptions<SmsOptions> options, IConfiguration configuration, ProDeskPaths paths, OutboxRelay relay, TimeProvider clock,
    ILogger<TwilioMedia> logger)
{
    /// <summary>How long all of a message's fetches may take: Twilio gives up on the webhook after 15 seconds.</summary>
    private static readonly TimeSpan FetchBudget = TimeSpan.FromSeconds(10);

    /// <summary>A message's files in total, as a mail's (<c>Attachments:MaxBytes</c>); a file past it is left as its link.</summary>
    private long MaxBytes => configuration.GetValue("Attachments:MaxBytes", 25L * 1024 * 1024);

    /// <summary>Whether <paramref name="url"/> is on the configured Twilio API host (scheme, host and port), under an account's resources.</summary>
    public bool IsTwilios(Uri url) =>
        string.Equals(url.GetLeftPart(UriPartial.Authority), options.Value.BaseUrl.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
        && url.AbsolutePath.StartsWith("/2010-04-01/Accounts/", StringComparison.Ordinal) && string.IsNullOrEmpty(url.UserInfo);

    /// <summary>Fetches <paramref name="media"/> and attaches what arrives to <paramref name="message"/> of <paramref name="item"/>; saves.</summary>
    public async Task AttachAsync(WorkItem item, WorkItemMessage message, IReadOnlyList<Uri> media, CancellationToken cancellationToken)
    {
        var account = options.Value;
        if (media.Count == 0 || string.IsNullOrWhiteSpace(account.AccountSid) || string.IsNullOrEmpty(account.AuthToken))
        {
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(FetchBudget);
        var client = clients.CreateClient(TwilioSmsGateway.HttpClientName);
        var left = MaxBytes;
        var now = clock.GetUtcNow();
        var files = new List<Attachments.BlobToWrite>();
        for (var i = 0; i < media.Count; i++)
        {
            if (!IsTwilios(media[i]))
            {
                continue;
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, media[i]);
                request.Headers.Authorization = account.BasicAuthorization();
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, budget.Token);
                if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > left)
                {
                    LogNotFetched(logger, media[i], $"{(int)response.StatusCode}, {response.Content.Headers.ContentLength} bytes");
                    continue;
                }

                var bytes = await ReadAtMostAsync(await response.Content.ReadAsStreamAsync(budget.Token), left, budget.Token);
                if (bytes is null)
                {
                    LogNotFetched(logger, media[i], $"larger than the {left} bytes left");
                    continue;
                }

                left -= bytes.Length;
                var type = Attachments.MediaType(response.Content.Headers.ContentType?.MediaType);
                // Ids in the message's order (a millisecond apart: version 7 ids sort by time first), as a mail's files.
                files.Add(new Attachments.BlobToWrite(Guid.CreateVersion7(now.AddMilliseconds(i)), () => new MemoryStream(bytes, writable: false), FileName(i, type), type));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Kept as its link in the text.
                LogNotFetched(logger, media[i], e.Message);
            }
        }

        if (files.Count == 0)
        {
            return;
        }

        IReadOnlyList<InboundAttachment> stored = [];
        try
        {
            stored = await Attachments.WriteBlobsAsync(paths, item.TenantId, files, cancellationToken);
            // Only these rows: the message's own were saved by ingestion, on this same context.
            db.ChangeTracker.Clear();
            IngestMessage.AddAttachments(db, stored, item, message, now.UtcDateTime);

            // The consoles showing the item redraw its thread with the files.
            WorkItemTrail.Announce(db, item.Id, item.TenantId, item.Version, item.Status, now.UtcDateTime);
            await db.SaveChangesAsync(cancellationToken);
            relay.Wake();
        }
        catch (Exception e) when (e is DbUpdateException or IOException)
        {
            // The message is stored with its links; the customer's words are not lost for a file.
            Attachments.DeleteBlobs(paths, item.TenantId, stored.Select(f => f.BlobId));
            LogNotAttached(logger, message.Id, e);
        }
    }

    /// <summary>"MMS 1.jpeg": Twilio's media have no names; the type gives the extension.</summary>
    private static string FileName(int index, string type)
    {
        var subtype = type.Split('/')[1].Split('+')[0];
        return subtype.Length is > 0 and <= 10 && subtype.All(char.IsAsciiLetterOrDigit) ? $"MMS {index + 1}.{subtype}" : $"MMS {index + 1}";
    }

    /// <summary>The stream's bytes, or null when there are more than <paramref name="max"/>.</summary>
    private static async Task<byte[]?> ReadAtMostAsync(Stream input, long max, CancellationToken cancellationToken)
    {
        await using (input)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await input.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Twilio media of message {MessageId} fetched but not attached; kept as links")]
    private static partial void LogNotAttached(ILogger logger, Guid messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Twilio media {Url} not fetched, kept as a link: {Reason}")]
    private static partial void LogNotFetched(ILogger logger, Uri url, string reason);
}
