using System.Collections.Concurrent;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Fetches a mailbox's unseen mail over IMAP (MailKit) and takes each in through
/// <see cref="IngestEmail"/>, one transaction per mail; only after that commit is the mail flagged
/// \Seen. A crash in between leaves it unseen, and the next poll finds it in the ledger instead of
/// taking it in twice. One poll of a mailbox at a time per node; other nodes may poll the same
/// mailbox, and the ledger makes that harmless.
/// </summary>
public sealed partial class MailboxPoller(IServiceScopeFactory scopes, IDataProtectionProvider protection, TimeProvider clock, ILogger<MailboxPoller> logger)
{
    public const string PasswordPurpose = "mailbox-password";

    /// <summary>Mail taken per poll; the rest waits for the next one (a full mailbox must not hold one poll for minutes).</summary>
    public const int BatchSize = 200;

    private readonly ConcurrentDictionary<Guid, PollState> _polling = new();

    /// <summary>
    /// After a refused sign-in, how long a mailbox is left alone unless its settings are saved again: a wrong password
    /// tried every minute (and by the watcher) is what locks accounts out at Office 365 and gets an address banned by
    /// fail2ban, for every tenant on that host.
    /// </summary>
    public static readonly TimeSpan SignInRefusedPause = TimeSpan.FromMinutes(15);

    /// <summary>How <see cref="Mailbox.LastError"/> begins after a refused sign-in (the pause reads it).</summary>
    public const string SignInRefused = "Sign-in refused";

    public IDataProtector Protector => protection.CreateProtector(PasswordPurpose);

    /// <summary>Opens a connection to <paramref name="mailbox"/> and signs in; the caller disposes it.</summary>
    public async Task<ImapClient> ConnectAsync(Mailbox mailbox, CancellationToken cancellationToken)
    {
        var client = new ImapClient { Timeout = 60_000 };
        try
        {
            await client.ConnectAsync(mailbox.Host, mailbox.Port, mailbox.UseTls ? SecureSocketOptions.Auto : SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(mailbox.UserName, Protector.Unprotect(mailbox.ProtectedPassword), cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Polls one mailbox of <paramref name="tenant"/>; returns how many mails were new to the desk. A call
    /// while a poll of the same mailbox runs on this node does not wait: it asks that poll to search again
    /// when it is done, so mail that arrived after its search is not left for the next minute.
    /// </summary>
    public async Task<int> PollAsync(TenantInfo tenant, Guid mailboxId, CancellationToken cancellationToken)
    {
        var state = _polling.GetOrAdd(mailboxId, _ => new PollState());
        var taken = 0;
        do
        {
            Volatile.Write(ref state.Again, 1);
            if (Interlocked.CompareExchange(ref state.Running, 1, 0) != 0)
            {
                return taken;
            }

            try
            {
                while (Interlocked.Exchange(ref state.Again, 0) == 1)
                {
                    var (took, more) = await PollLockedAsync(tenant, mailboxId, cancellationToken);
                    taken += took;
                    if (more && took > 0)
                    {
                        // A backlog larger than a batch drains at once, not a batch a minute.
                        Volatile.Write(ref state.Again, 1);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref state.Running, 0);
            }
        }
        // A request that came between the last search and the release found the gate shut: serve it.
        while (Volatile.Read(ref state.Again) == 1);
        return taken;
    }

    private sealed class PollState
    {
        /// <summary>1 while a poll of the mailbox runs on this node.</summary>
        public int Running;

        /// <summary>1 when a poll was asked for since the running one last searched.</summary>
        public int Again;
    }

    /// <returns>How many mails were new to the desk, and whether more were waiting than one batch takes.</returns>
    private async Task<(int Taken, bool More)> PollLockedAsync(TenantInfo tenant, Guid mailboxId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        using var tenantScope = TenantScopes.Enter(scope.ServiceProvider.GetRequiredService<TenantScopes>().ForTenant(tenant));
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var mailbox = await db.Mailboxes.FirstOrDefaultAsync(m => m.Id == mailboxId && m.Enabled, cancellationToken);
        if (mailbox is null
            || (mailbox.LastError?.StartsWith(SignInRefused, StringComparison.Ordinal) == true
                && mailbox.LastPolledAt is { } refusedAt && clock.GetUtcNow().UtcDateTime - refusedAt < SignInRefusedPause))
        {
            return (0, false);
        }

        var taken = 0;
        var more = false;
        // Messages the server refuses to hand out (a corrupt file, Gmail's "some messages could not be FETCHed"): each
        // stays unread and is tried again next time, and the rest of the mailbox still comes in.
        var unreadable = new List<string>();
        try
        {
            using var session = new FolderSession(this, mailbox, cancellationToken);
            await session.OpenAsync();
            var folder = session.Folder;
            // Unread mail, and mail that arrived since the last poll even if someone already read it in their own
            // client (a shared inbox is read by people too). Mail read before the mailbox was set up, or before its
            // folder was recreated (a new UIDVALIDITY), is history and stays out.
            if (mailbox.UidValidity != folder.UidValidity || mailbox.LastUid is null)
            {
                mailbox.UidValidity = folder.UidValidity;
                mailbox.LastUid = folder.UidNext is { } next
                    ? next.Id - 1L
                    : (await folder.SearchAsync(SearchQuery.All, cancellationToken)).Select(u => (long)u.Id).DefaultIfEmpty(0).Max();
            }

            var lastUid = mailbox.LastUid.Value;
            var unseen = await folder.SearchAsync(SearchQuery.NotSeen, cancellationToken);
            // "UID n:*" always matches the newest mail, even below n (RFC 3501): only UIDs above the last one count.
            var arrived = lastUid >= uint.MaxValue ? [] : (await folder.SearchAsync(
                SearchQuery.Uids(new UniqueIdRange(new UniqueId((uint)lastUid + 1), UniqueId.MaxValue)), cancellationToken)).Where(u => u.Id > lastUid);
            var candidates = unseen.Concat(arrived).Distinct().OrderBy(u => u.Id).ToList();
            var batch = candidates.Take(BatchSize).ToList();
            more = candidates.Count > batch.Count;
            // The size the server gives, so that a huge mail is never read into memory (and a mail deleted meanwhile drops out).
            var summaries = await session.SummariesAsync(batch, unreadable);
            var maxBytes = scope.ServiceProvider.GetRequiredService<IOptions<EmailOptions>>().Value.MaxBytes;
            foreach (var summary in summaries.OrderBy(m => m.UniqueId.Id))
            {
                // Each mail in its own DI scope (own DbContext): one mail's failure leaves the others' commits alone.
                folder = session.Folder;
                try
                {
                    await using var mailScope = scopes.CreateAsyncScope();
                    var ingest = mailScope.ServiceProvider.GetRequiredService<IngestEmail>();
                    IngestEmail.Result result;
                    if (summary.Size > maxBytes)
                    {
                        using var stream = await folder.GetStreamAsync(summary.UniqueId, string.Empty, cancellationToken);
                        result = await ingest.QuarantineOversizeAsync(mailbox.Key, stream, summary.Envelope?.Subject, summary.Envelope?.From.Mailboxes.FirstOrDefault()?.Address, cancellationToken);
                    }
                    else
                    {
                        byte[] raw;
                        using (var buffer = new MemoryStream())
                        {
                            using var stream = await folder.GetStreamAsync(summary.UniqueId, string.Empty, cancellationToken);
                            await stream.CopyToAsync(buffer, cancellationToken);
                            raw = buffer.ToArray();
                        }

                        result = await ingest.HandleAsync(mailbox.Key, raw, null, cancellationToken);
                    }

                    taken += result.Outcome == IngestEmail.Outcome.Duplicate ? 0 : 1;
                }
                catch (Exception e) when (session.IsRefusal(e))
                {
                    await session.RefusedAsync(summary.UniqueId, e, unreadable);
                    continue;
                }

                await folder.AddFlagsAsync(summary.UniqueId, MessageFlags.Seen, silent: true, cancellationToken);
                // In UID order, so everything up to here was taken in; saved with the poll (a crash before repeats, and dedupes).
                mailbox.LastUid = Math.Max(mailbox.LastUid ?? 0, summary.UniqueId.Id);
            }

            await session.Client.DisconnectAsync(quit: true, cancellationToken);
            mailbox.LastError = unreadable.Count == 0 ? null
                : ColumnText.Fit($"{unreadable.Count} message(s) the server would not hand out stay unread and are tried again: {string.Join("; ", unreadable)}", 1000);
        }
        catch (AuthenticationException e)
        {
            mailbox.LastError = ColumnText.Fit($"{SignInRefused}: {e.Message} Polling pauses for {SignInRefusedPause.TotalMinutes:0} minutes, or until the mailbox is saved again.", 1000);
            LogFailed(logger, tenant.Slug, mailbox.Key, e);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            mailbox.LastError = ColumnText.Fit(e.Message, 1000);
            LogFailed(logger, tenant.Slug, mailbox.Key, e);
        }

        mailbox.LastPolledAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(CancellationToken.None);
        return (taken, more);
    }

    private const MessageSummaryItems SummaryItems = MessageSummaryItems.UniqueId | MessageSummaryItems.Size | MessageSummaryItems.Envelope;

    /// <summary>
    /// The mailbox's folder on one connection, opened again when the server refuses a message: a refused FETCH is a NO,
    /// or (Dovecot, when it cannot read a stored file) the end of the connection. Each such message stays unread and is
    /// tried again at the next poll, and the rest of the mailbox still comes in; a connection that keeps failing fails the poll.
    /// </summary>
    private sealed class FolderSession(MailboxPoller poller, Mailbox mailbox, CancellationToken cancellationToken) : IDisposable
    {
        private const int MaxReopens = 5;
        private int _reopens;

        public ImapClient Client { get; private set; } = null!;

        public IMailFolder Folder { get; private set; } = null!;

        public async Task OpenAsync()
        {
            Client?.Dispose();
            Client = await poller.ConnectAsync(mailbox, cancellationToken);
            Folder = await Client.GetFolderAsync(mailbox.Folder, cancellationToken);
            await Folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
        }

        /// <summary>Whether <paramref name="error"/> is the server refusing one message, rather than a failure of the poll.</summary>
        public bool IsRefusal(Exception error) => error is ImapCommandException || (error is ImapProtocolException && _reopens < MaxReopens);

        /// <summary>Names the refused message in <paramref name="unreadable"/>, and opens the connection again where the server dropped it.</summary>
        public async Task RefusedAsync(UniqueId uid, Exception error, List<string> unreadable)
        {
            unreadable.Add($"UID {uid.Id}: {error.Message}");
            await ReopenIfDroppedAsync(error);
        }

        private async Task ReopenIfDroppedAsync(Exception error)
        {
            if (!Client.IsConnected || error is ImapProtocolException)
            {
                _reopens++;
                await OpenAsync();
            }
        }

        /// <summary>The batch's summaries in one command; when the server refuses that, one by one, leaving out only what it refuses.</summary>
        public async Task<IList<IMessageSummary>> SummariesAsync(List<UniqueId> batch, List<string> unreadable)
        {
            if (batch.Count == 0)
            {
                return [];
            }

            try
            {
                return await Folder.FetchAsync(batch, SummaryItems, cancellationToken);
            }
            catch (Exception e) when (batch.Count > 1 && IsRefusal(e))
            {
                await ReopenIfDroppedAsync(e);
            }

            var summaries = new List<IMessageSummary>();
            foreach (var uid in batch)
            {
                try
                {
                    summaries.AddRange(await Folder.FetchAsync([uid], SummaryItems, cancellationToken));
                }
                catch (Exception e) when (IsRefusal(e))
                {
                    // Left out; the others still come.
                    await RefusedAsync(uid, e, unreadable);
                }
            }

            return summaries;
        }

        public void Dispose() => Client?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling mailbox {Mailbox} of {Tenant} failed")]
    private static partial void LogFailed(ILogger logger, string tenant, string mailbox, Exception exception);
}
