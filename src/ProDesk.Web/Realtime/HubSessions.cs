using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Web.Identity;
using StackExchange.Redis;

namespace ProDesk.Web.Realtime;

/// <summary>
/// The agent hub's open connections on this node, each with the security stamp its user had when it
/// connected. A hub connection authenticates once, at its start, so a tenant taken away from an agent,
/// a role change or a new password would never reach it: it kept receiving that tenant's events. Every
/// Realtime:HubRecheckSeconds (10 s; never longer than Identity:SessionRecheckSeconds, the interval browser sessions
/// re-check theirs, and at least a second),
/// connections whose user's stamp or tenants served changed, or whose user is gone, are closed; the console reconnects as
/// whoever the user is now. Cookies and personal access tokens carry the stamp, OAuth access tokens a
/// hash of it (<see cref="StampHash"/>); a connection opened with a personal access token also closes when that
/// token is revoked, one opened with a browser session when that session signs out. A lockout only throttles sign-ins, as it does for cookie
/// sessions, so it closes nothing: otherwise anyone could keep an agent's console dropping by failing
/// sign-ins with its email. A change made here is not left to the interval: <see cref="RecheckNow"/> (a user's stamp
/// saved, see <see cref="RecheckOnUserChange"/>, or a token revoked) wakes the re-check on this node and, through Redis
/// where there is one, on every other node, so a tenant taken away stops reaching the agent's open consoles at once.
/// </summary>
public sealed partial class HubSessions(
    IServiceScopeFactory scopes, TimeProvider clock, IConfiguration configuration, IOptions<IdentityOptions> identity, ILogger<HubSessions> logger, IConnectionMultiplexer? redis = null)
    : BackgroundService
{
    // Nodes share the multiplexer's "prodesk" channel prefix; a node knows its own messages by this id.
    private static readonly RedisChannel RecheckChannel = RedisChannel.Literal("hub-sessions:recheck");
    private readonly string node = Guid.NewGuid().ToString("N");

    // At most one wake-up pending: a burst of changes is one re-check, which reads every user's stamp anyway.
    private readonly SemaphoreSlim wake = new(0, 1);

    private sealed record Open(Guid UserId, string? Stamp, string? StampHash, Guid? TokenId, Guid? SessionId, IReadOnlySet<Guid> Tenants, HubCallerContext Context);

    private readonly ConcurrentDictionary<string, Open> open = new();

    // Created with the service, so a test's clock can move as soon as the service exists.
    // At most Realtime:HubRecheckSeconds (10 s): a hub connection is where a tenant's live events flow, so a tenant
    // taken away must stop reaching it sooner than a browser session's page loads notice (one query per node per pass).
    private readonly PeriodicTimer timer = new(TimeSpan.FromSeconds(Math.Max(1, Math.Min(
        configuration.GetValue("Identity:SessionRecheckSeconds", 60), configuration.GetValue("Realtime:HubRecheckSeconds", 10)))), clock);

    // Connections open per user on this node, held to Realtime:AgentConnectionsPerUser (0: no cap).
    private readonly ConcurrentDictionary<Guid, int> perUser = new();
    private readonly int connectionsPerUser = configuration.GetValue("Realtime:AgentConnectionsPerUser", 20);

    /// <summary>
    /// Records a new connection; false, recording nothing, when its user already has
    /// Realtime:AgentConnectionsPerUser (20) open on this node. A console is a tab or two, a wallboard one more; a
    /// script opening hundreds held a node's sockets, and each one's opening and closing announced queue figures to
    /// every wallboard of the user's tenants (probe round 20). Per node, as the chat's limits: N nodes allow N times it.
    /// </summary>
    public bool TryOpen(HubCallerContext context)
    {
        if (!Guid.TryParse(context.User?.FindFirst(ProDeskClaims.Subject)?.Value, out var userId))
        {
            // The hub takes staff only, who always have one; nothing to re-check or count without it.
            return true;
        }

        if (!TryCount(userId))
        {
            LogRefused(logger, userId, connectionsPerUser);
            return false;
        }

        open[context.ConnectionId] = new Open(
            userId,
            context.User!.FindFirst(identity.Value.ClaimsIdentity.SecurityStampClaimType)?.Value,
            context.User.FindFirst(Identity.StampHash.ClaimType)?.Value,
            Guid.TryParse(context.User.FindFirst(ProDeskClaims.PersonalAccessToken)?.Value, out var tokenId) ? tokenId : null,
            ServerSideSessions.SessionOf(context.User),
            context.User.FindAll(ProDeskClaims.Tenant).Select(c => Guid.TryParse(c.Value, out var tenant) ? tenant : Guid.Empty).ToHashSet(),
            context);
        return true;
    }

    public void Closed(string connectionId)
    {
        if (open.TryRemove(connectionId, out var connection))
        {
            Uncount(connection.UserId);
        }
    }

    private bool TryCount(Guid userId)
    {
        while (true)
        {
            var count = perUser.GetOrAdd(userId, 0);
            if (connectionsPerUser > 0 && count >= connectionsPerUser)
            {
                return false;
            }

            if (perUser.TryUpdate(userId, count + 1, count))
            {
                return true;
            }
        }
    }

    private void Uncount(Guid userId)
    {
        while (perUser.TryGetValue(userId, out var count))
        {
            if (count <= 1 ? perUser.TryRemove(new KeyValuePair<Guid, int>(userId, count)) : perUser.TryUpdate(userId, count - 1, count))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Re-checks the open connections now, on this node and on the others, rather than at the next interval. Returns at
    /// once; the interval stays the fallback for a node that missed the message (Redis down).
    /// </summary>
    public void RecheckNow()
    {
        Wake();
        if (redis is null)
        {
            return;
        }

        try
        {
            redis.GetSubscriber().Publish(RecheckChannel, node, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            LogNotPublished(logger, e);
        }
    }

    private void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A re-check is already pending; it will read the change.
        }
    }

    /// <summary>Closes the connections whose user changed since they connected; returns how many.</summary>
    public async Task<int> RecheckAsync(CancellationToken cancellationToken)
    {
        // One snapshot for the query and the loop: a connection opened meanwhile is checked next time.
        var snapshot = open.ToArray();
        var users = snapshot.Select(o => o.Value.UserId).Distinct().ToList();
        if (users.Count == 0)
        {
            return 0;
        }

        await using var scope = scopes.CreateAsyncScope();
        var current = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().Users.AsNoTracking()
            .Where(u => users.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.SecurityStamp, cancellationToken);
        // Tenants served, as saved: an assignment keeps the stamp (nobody is signed out), so it is compared on its own.
        var served = (await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().StaffTenants.AsNoTracking()
            .Where(s => users.Contains(s.UserId)).Select(s => new { s.UserId, s.TenantId }).ToListAsync(cancellationToken))
            .ToLookup(s => s.UserId, s => s.TenantId);
        var tokens = snapshot.Select(o => o.Value.TokenId).OfType<Guid>().Distinct().ToList();
        var validTokens = tokens.Count == 0 ? [] : (await scope.ServiceProvider.GetRequiredService<PersonalAccessTokens>().StillValidAsync(tokens, cancellationToken)).ToHashSet();
        var sessions = snapshot.Select(o => o.Value.SessionId).OfType<Guid>().Distinct().ToList();
        var openSessions = sessions.Count == 0 ? [] : (await scope.ServiceProvider.GetRequiredService<ServerSideSessions>().StillOpenAsync(sessions, cancellationToken)).ToHashSet();
        var closed = 0;
        foreach (var (connectionId, connection) in snapshot)
        {
            if (!current.TryGetValue(connection.UserId, out var stamp) || Changed(connection, stamp)
                || !connection.Tenants.SetEquals(served[connection.UserId])
                || (connection.TokenId is { } tokenId && !validTokens.Contains(tokenId))
                || (connection.SessionId is { } sessionId && !openSessions.Contains(sessionId)))
            {
                Closed(connectionId);
                connection.Context.Abort();
                closed++;
            }
        }

        if (closed > 0)
        {
            LogClosed(logger, closed);
        }

        return closed;
    }

    // A token minted before access tokens carried the hash has neither: the hub closes it when it expires.
    private static bool Changed(Open connection, string? stamp) =>
        connection.Stamp is not null ? connection.Stamp != stamp
        : connection.StampHash is not null && connection.StampHash != Identity.StampHash.Of(stamp);

    public override void Dispose()
    {
        timer.Dispose();
        wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (redis is not null)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(RecheckChannel, (_, sender) =>
                {
                    if (sender != node)
                    {
                        Wake();
                    }
                });
            }
            catch (RedisException e)
            {
                LogNotSubscribed(logger, e);
            }
        }

        // The timer and the wake-up each keep one pending wait, so neither loses a tick or a wake-up to the other.
        Task<bool>? tick = null;
        Task? woken = null;
        try
        {
            while (true)
            {
                tick ??= timer.WaitForNextTickAsync(stoppingToken).AsTask();
                woken ??= wake.WaitAsync(stoppingToken);
                if (await Task.WhenAny(tick, woken) == tick)
                {
                    if (!await tick)
                    {
                        return;
                    }

                    tick = null;
                }
                else
                {
                    await woken;
                    woken = null;
                }

                try
                {
                    await RecheckAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Count} agent hub connections whose user changed, or whose token was revoked, since they connected")]
    private static partial void LogClosed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an agent hub connection of user {UserId}: it has {Limit} open on this node already (Realtime:AgentConnectionsPerUser)")]
    private static partial void LogRefused(ILogger logger, Guid userId, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-checking the agent hub's connections failed; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ask the other nodes to re-check their agent hub connections; they do so at their next interval")]
    private static partial void LogNotPublished(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to other nodes' re-check requests; this node's agent hub connections are re-checked at its interval")]
    private static partial void LogNotSubscribed(ILogger logger, Exception exception);
}
