using ProDesk.Web.Metrics;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Data;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Outbound;

/// <summary>
/// Sends outbound messages after the transaction that wrote them committed, across tenants: claims
/// due rows (FOR UPDATE SKIP LOCKED on PostgreSQL) by pushing their next attempt out by a lease, so
/// several nodes send side by side and a node that dies mid-send leaves the row to be retried when
/// the lease ends. Failures are retried with growing backoff; a permanent refusal or the last retry
/// marks the row Failed. Delivery is at least once: a crash between sending and recording repeats a
/// send, with the same Message-ID, which mail clients collapse.
/// </summary>
public sealed partial class OutboundDispatcher(
    IServiceScopeFactory scopes, ProDeskMetrics metrics, DatabaseSettings settings, IEnumerable<IOutboundSender> senders, TimeProvider clock, ILogger<OutboundDispatcher> logger) : WakeablePollingService(PollInterval)
{
    public const int BatchSize = 20;

    public const int MaxAttempts = 8;

    /// <summary>How long a claimed row is held by the node sending it.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, IOutboundSender> _senders = senders
        .SelectMany(s => s.Channels.Select(c => (c, s))).ToDictionary(x => x.c, x => x.s, StringComparer.Ordinal);

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h.</summary>
    public static TimeSpan Backoff(int attempt) => attempt switch
    {
        <= 1 => TimeSpan.FromSeconds(30),
        2 => TimeSpan.FromMinutes(2),
        3 => TimeSpan.FromMinutes(10),
        4 => TimeSpan.FromMinutes(30),
        5 => TimeSpan.FromHours(1),
        6 => TimeSpan.FromHours(2),
        _ => TimeSpan.FromHours(4),
    };

    protected override async Task<bool> PassAsync(CancellationToken cancellationToken) => await SendDueAsync(cancellationToken) >= BatchSize;

    protected override void OnPassFailed(Exception exception)
    {
        LogFailed(logger, exception);
        metrics.JobFailed("outbound-dispatcher");
    }

    /// <summary>Sends up to one batch of due messages; returns how many it attempted.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        using var system = TenantScopes.Enter(await services.GetRequiredService<TenantScopes>().ForSystemAsync("outbound-dispatcher", cancellationToken));
        var db = services.GetRequiredService<ProDeskDbContext>();
        // One connection checkout for the pass, held while the batch is sent: under heavy inbound mail every
        // checkout waits its turn behind the requests, and two per message sent 20 acknowledgments a second
        // while 650 mails a second came in (benchmark G, decision 42).
        return await db.Database.OnOneConnectionAsync(() => SendDueAsync(db, cancellationToken), cancellationToken);
    }

    private async Task<int> SendDueAsync(ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claimed = await ClaimAsync(db, now, cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }

        var messages = await db.OutboundMessages.Where(o => claimed.Contains(o.Id)).ToListAsync(cancellationToken);
        var tenantIds = messages.Select(m => m.TenantId).Distinct().ToList();
        var channelSettings = await db.ChannelSettings.AsNoTracking().Where(c => tenantIds.Contains(c.TenantId)).ToDictionaryAsync(c => c.TenantId, cancellationToken);
        var tenantNames = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, cancellationToken);
        // The batch's suppressed addresses in one query, not one per mail.
        var addresses = messages.Where(m => m.Channel == "email").Select(m => ProDesk.Domain.Channels.Email.ReplyAddress.Key(m.To)).Distinct().ToList();
        var suppressed = (await db.EmailSuppressions.AsNoTracking().Where(s => tenantIds.Contains(s.TenantId) && addresses.Contains(s.Address))
            .Select(s => new { s.TenantId, s.Address }).ToListAsync(cancellationToken)).Select(s => (s.TenantId, s.Address)).ToHashSet();
        foreach (var message in messages)
        {
            var isSuppressed = message.Channel == "email" && suppressed.Contains((message.TenantId, ProDesk.Domain.Channels.Email.ReplyAddress.Key(message.To)));
            await SendOneAsync(message, isSuppressed, channelSettings.GetValueOrDefault(message.TenantId), tenantNames.GetValueOrDefault(message.TenantId) ?? "", cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            if (message is { State: OutboundState.Failed or OutboundState.Suppressed, WorkItemMessageId: not null, Automatic: false })
            {
                // On a context of its own: it may retry on a conflict with an agent's save, which must not drop this batch's rows.
                await using var reopen = scopes.CreateAsyncScope();
                await reopen.ServiceProvider.GetRequiredService<UndeliveredReplies>().ReopenAsync(message, cancellationToken);
            }
        }

        return messages.Count;
    }

    /// <summary>Why a message to a suppressed address was not sent.</summary>
    public const string BouncedError = "the address bounced permanently";

    private async Task SendOneAsync(OutboundMessage message, bool isSuppressed, ChannelSettings? channel, string tenantName, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (isSuppressed)
        {
            message.State = OutboundState.Suppressed;
            message.LastError = BouncedError;
            return;
        }

        try
        {
            if (channel is null || !_senders.TryGetValue(message.Channel, out var sender))
            {
                throw new PermanentSendFailureException($"no sender for channel '{message.Channel}'");
            }

            await sender.SendAsync(message, channel, tenantName, cancellationToken);
            message.State = OutboundState.Sent;
            message.SentAt = now;
            message.LastError = null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var permanent = e is PermanentSendFailureException;
            message.LastError = ColumnText.Fit(e.Message, 1000);
            if (permanent || message.Attempts >= MaxAttempts)
            {
                message.State = OutboundState.Failed;
                LogGaveUp(logger, message.Id, message.Channel, message.Attempts, e.Message);
            }
            else
            {
                message.NextAttemptAt = now + Backoff(message.Attempts);
                LogRetry(logger, message.Id, message.Channel, message.Attempts, message.NextAttemptAt, e.Message);
            }
        }
    }

    /// <summary>Takes due rows for <see cref="Lease"/>: counts the attempt and pushes the next one out, so another node skips them.</summary>
    private async Task<List<Guid>> ClaimAsync(ProDeskDbContext db, DateTime now, CancellationToken cancellationToken)
    {
        var leaseEnd = now + Lease;
        if (settings.Provider == DatabaseProvider.Postgres)
        {
            // "= ANY (ARRAY(...))", not "IN (...)": a prepared statement's generic plan would scan every row to join the ids (SlaSweeper).
            return await db.Database.SqlQuery<Guid>($"""
                UPDATE "OutboundMessages" SET "NextAttemptAt" = {leaseEnd}, "Attempts" = "Attempts" + 1
                WHERE "Id" = ANY (ARRAY(
                    SELECT "Id" FROM "OutboundMessages" WHERE "State" = 'Pending' AND "NextAttemptAt" <= {now}
                    ORDER BY "NextAttemptAt" LIMIT {BatchSize}
                    FOR UPDATE SKIP LOCKED))
                RETURNING "Id" AS "Value"
                """).ToListAsync(cancellationToken);
        }

        // SQLite has one writer at a time: read, then take what is still due.
        var due = await db.OutboundMessages.AsNoTracking().Where(o => o.State == OutboundState.Pending && o.NextAttemptAt <= now)
            .OrderBy(o => o.NextAttemptAt).Take(BatchSize).Select(o => o.Id).ToListAsync(cancellationToken);
        var taken = new List<Guid>();
        foreach (var id in due)
        {
            if (await db.OutboundMessages.Where(o => o.Id == id && o.State == OutboundState.Pending && o.NextAttemptAt <= now)
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.NextAttemptAt, leaseEnd).SetProperty(o => o.Attempts, o => o.Attempts + 1), cancellationToken) == 1)
            {
                taken.Add(id);
            }
        }

        return taken;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbound dispatcher pass failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbound {Id} on {Channel}: attempt {Attempt} failed, next at {NextAt:O}: {Error}")]
    private static partial void LogRetry(ILogger logger, Guid id, string channel, int attempt, DateTime nextAt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbound {Id} on {Channel}: gave up after attempt {Attempt}: {Error}")]
    private static partial void LogGaveUp(ILogger logger, Guid id, string channel, int attempt, string error);
}
