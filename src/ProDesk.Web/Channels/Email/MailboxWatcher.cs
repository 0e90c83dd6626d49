using ProDesk.Web.Metrics;
using MailKit;
using MailKit.Net.Imap;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Keeps one IMAP connection per enabled mailbox in IDLE, so new mail is a work item within a second
/// or two instead of at the next minute's poll; a server without IDLE is polled every
/// <see cref="EmailOptions.PollSeconds"/>. The recurring <see cref="MailboxPolling"/> job still polls
/// every mailbox each minute, so a lost connection never loses mail, only speed. Mailboxes added,
/// changed or removed are picked up within <see cref="EmailOptions.WatchRefreshSeconds"/>.
/// </summary>
public sealed partial class MailboxWatcher(IServiceScopeFactory scopes, MailboxPoller poller, ProDeskMetrics metrics, Microsoft.Extensions.Options.IOptions<EmailOptions> options, ILogger<MailboxWatcher> logger) : BackgroundService
{
    // RFC 2177: clients re-issue IDLE at least every 29 minutes; servers and middleboxes often cut sooner.
    private static readonly TimeSpan IdleRenewal = TimeSpan.FromMinutes(9);

    private readonly Dictionary<(Guid Mailbox, string Version), CancellationTokenSource> _watching = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    running.RemoveAll(t => t.IsCompleted);
                    running.AddRange(await RefreshAsync(stoppingToken));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRefreshFailed(logger, e);
                    metrics.JobFailed("mailbox-watch");
                }

                await Task.Delay(TimeSpan.FromSeconds(options.Value.WatchRefreshSeconds), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (var watch in _watching.Values)
            {
                await watch.CancelAsync();
                watch.Dispose();
            }

            await Task.WhenAll(running);
        }
    }

    /// <summary>Starts watching new or changed mailboxes and stops watching removed, disabled or changed ones.</summary>
    private async Task<List<Task>> RefreshAsync(CancellationToken stoppingToken)
    {
        var wanted = await MailboxPolling.EnabledAsync(scopes, "mailbox-watcher", stoppingToken);
        // A changed mailbox (host, user, password, folder) is a new version: its old watch stops.
        var keys = wanted.ToDictionary(m => (m.Mailbox.Id, Version(m.Mailbox)), m => m);
        foreach (var gone in _watching.Keys.Where(k => !keys.ContainsKey(k)).ToList())
        {
            await _watching[gone].CancelAsync();
            _watching[gone].Dispose();
            _watching.Remove(gone);
        }

        var started = new List<Task>();
        foreach (var (key, entry) in keys.Where(k => !_watching.ContainsKey(k.Key)))
        {
            var watch = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _watching[key] = watch;
            started.Add(WatchAsync(entry.Tenant, entry.Mailbox, watch.Token));
        }

        return started;
    }

    private static string Version(Mailbox m) => $"{m.Host}|{m.Port}|{m.UseTls}|{m.UserName}|{m.ProtectedPassword}|{m.Folder}";

    private async Task WatchAsync(TenantInfo tenant, Mailbox mailbox, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var client = await poller.ConnectAsync(mailbox, cancellationToken);
                if (!client.Capabilities.HasFlag(ImapCapabilities.Idle))
                {
                    await client.DisconnectAsync(quit: true, cancellationToken);
                    await poller.PollAsync(tenant, mailbox.Id, cancellationToken);
                    await Task.Delay(TimeSpan.FromSeconds(options.Value.PollSeconds), cancellationToken);
                    continue;
                }

                // The folder is open before the catch-up poll: mail arriving after it is announced to this
                // connection (EXISTS) and ends the first IDLE at once, so nothing falls between the two.
                var folder = await client.GetFolderAsync(mailbox.Folder, cancellationToken);
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
                await poller.PollAsync(tenant, mailbox.Id, cancellationToken);
                failures = 0;
                while (!cancellationToken.IsCancellationRequested && client.IsConnected)
                {
                    using var done = new CancellationTokenSource(IdleRenewal);
                    void Arrived(object? sender, EventArgs e) => done.Cancel();
                    folder.CountChanged += Arrived;
                    try
                    {
                        await client.IdleAsync(done.Token, cancellationToken);
                    }
                    finally
                    {
                        folder.CountChanged -= Arrived;
                    }

                    await poller.PollAsync(tenant, mailbox.Id, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Unreachable server, wrong password: back off up to a minute; the recurring poll records the error.
                failures++;
                LogWatchFailed(logger, tenant.Slug, mailbox.Key, failures, e.Message);
                metrics.JobFailed("mailbox-watch", tenant.Slug);
                try
                {
                    // A refused sign-in waits as long as the poller does (MailboxPoller.SignInRefusedPause); the watcher is
                    // started again when the mailbox is saved.
                    await Task.Delay(e is MailKit.Security.AuthenticationException ? MailboxPoller.SignInRefusedPause : TimeSpan.FromSeconds(Math.Min(60, 2 << Math.Min(failures, 5))), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Mailbox watcher could not read the mailbox list")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching mailbox {Mailbox} of {Tenant} failed ({Failures} in a row): {Error}")]
    private static partial void LogWatchFailed(ILogger logger, string tenant, string mailbox, int failures, string error);
}
