using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Realtime;

/// <summary>
/// The agent hub's open connections on this node, each with the security stamp its user had when it
/// connected. A hub connection authenticates once, at its start, so a tenant taken away from an agent,
/// a role change or a new password would never reach it: it kept receiving that tenant's events. Every
/// Realtime:HubRecheckSeconds (10 s; never longer than Identity:SessionRecheckSeconds, the interval browser sessions
/// re-check theirs, and at least a second),
/// connections whose user's stamp changed, or whose user is gone, are closed; the console reconnects as
/// whoever the user is now. Cookies and personal access tokens carry the stamp, OAuth access tokens a
/// hash of it (<see cref="StampHash"/>); a connection opened with a personal access token also closes when that
/// token is revoked. A lockout only throttles sign-ins, as it does for cookie
/// sessions, so it closes nothing: otherwise anyone could keep an agent's console dropping by failing
/// sign-ins with its email.
/// </summary>
public sealed partial class HubSessions(IServiceScopeFactory scopes, TimeProvider clock, IConfiguration configuration, IOptions<IdentityOptions> identity, ILogger<HubSessions> logger)
    : BackgroundService
{
    private sealed record Open(Guid UserId, string? Stamp, string? StampHash, Guid? TokenId, HubCallerContext Context);

    private readonly ConcurrentDictionary<string, Open> open = new();

    // Created with the service, so a test's clock can move as soon as the service exists.
    // At most Realtime:HubRecheckSeconds (10 s): a hub connection is where a tenant's live events flow, so a tenant
    // taken away must stop reaching it sooner than a browser session's page loads notice (one query per node per pass).
    private readonly PeriodicTimer timer = new(TimeSpan.FromSeconds(Math.Max(1, Math.Min(
        configuration.GetValue("Identity:SessionRecheckSeconds", 60), configuration.GetValue("Realtime:HubRecheckSeconds", 10)))), clock);

    public void Opened(HubCallerContext context)
    {
        if (Guid.TryParse(context.User?.FindFirst(ProDeskClaims.Subject)?.Value, out var userId))
        {
            open[context.ConnectionId] = new Open(
                userId,
                context.User!.FindFirst(identity.Value.ClaimsIdentity.SecurityStampClaimType)?.Value,
                context.User.FindFirst(Identity.StampHash.ClaimType)?.Value,
                Guid.TryParse(context.User.FindFirst(ProDeskClaims.PersonalAccessToken)?.Value, out var tokenId) ? tokenId : null,
                context);
        }
    }

    public void Closed(string connectionId) => open.TryRemove(connectionId, out _);

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
        var tokens = snapshot.Select(o => o.Value.TokenId).OfType<Guid>().Distinct().ToList();
        var validTokens = tokens.Count == 0 ? [] : (await scope.ServiceProvider.GetRequiredService<PersonalAccessTokens>().StillValidAsync(tokens, cancellationToken)).ToHashSet();
        var closed = 0;
        foreach (var (connectionId, connection) in snapshot)
        {
            if (!current.TryGetValue(connection.UserId, out var stamp) || Changed(connection, stamp)
                || (connection.TokenId is { } tokenId && !validTokens.Contains(tokenId)))
            {
                open.TryRemove(connectionId, out _);
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
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-checking the agent hub's connections failed; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
