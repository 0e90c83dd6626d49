using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.Identity;

/// <summary>
/// Keeps browser sessions on the server (<see cref="UserSession"/>): the sign-in cookie holds a random key, and
/// signing out deletes the session, so a cookie copied before the sign-out (a shared computer, a proxy's log, a
/// stolen backup) is worth nothing after it; it used to keep working, and could even mint a personal access token,
/// until it expired (probe round 16). Only that session ends: the user's other browsers stay signed in; a password
/// change ends those at once (<see cref="EndOthersAsync"/>). One primary-key read per request, on a table without
/// row-level security. A session's claims name it (<see cref="ClaimType"/>), so a hub connection opened with it closes
/// too. A sign-in always starts a new session (<see cref="FreshSessionAtSignIn"/>).
/// </summary>
public sealed class ServerSideSessions(IServiceScopeFactory scopes, TimeProvider clock, HubSessions hubSessions) : ITicketStore
{
    /// <summary>The session's id among its claims.</summary>
    public const string ClaimType = "sid";

    /// <summary>When the session's user gave their password, in Unix milliseconds: the session's start.</summary>
    public const string SignedInAtClaimType = "signed_in_at";

    /// <summary>When <paramref name="principal"/>'s session began with a sign-in; null for other credentials.</summary>
    public static DateTimeOffset? SignedInAt(ClaimsPrincipal? principal) => FromUnixMilliseconds(principal?.FindFirst(SignedInAtClaimType)?.Value);

    /// <summary>A time written as Unix milliseconds (as <see cref="SignedInAtClaimType"/> is); null when it is none.</summary>
    internal static DateTimeOffset? FromUnixMilliseconds(string? value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var milliseconds)
        && milliseconds < 253402300800000
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : null;

    /// <summary>
    /// For the security-stamp check, which rebuilds a session's principal from its user: the new one keeps the session's
    /// name and start, or a hub connection could not tell which session it came with, nor /connect/authorize how fresh it is.
    /// </summary>
    public static Task KeepSessionClaims(SecurityStampRefreshingPrincipalContext context)
    {
        if (context.NewPrincipal?.Identity is ClaimsIdentity identity && context.CurrentPrincipal is { } current)
        {
            foreach (var claim in current.Claims.Where(c => c.Type is ClaimType or SignedInAtClaimType))
            {
                if (!identity.HasClaim(c => c.Type == claim.Type))
                {
                    identity.AddClaim(new Claim(claim.Type, claim.Value));
                }
            }
        }

        return Task.CompletedTask;
    }

    // The cookie's own lifetime is the fallback; the handler sets ExpiresUtc before it stores or renews.
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(10);

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, CancellationToken.None);

    // In a scope of its own even within a request: saving on the request's context would save whatever else it tracks.
    public Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken) =>
        InScopeAsync(db => StoreAsync(db, ticket, cancellationToken));

    public Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken) =>
        StoreAsync(ticket, cancellationToken);

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken) =>
        InScopeAsync(db => RenewAsync(db, key, ticket, cancellationToken));

    public Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken) =>
        RenewAsync(Db(httpContext), key, ticket, cancellationToken);

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken) =>
        InScopeAsync(db => RetrieveAsync(db, key, cancellationToken));

    public Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken) =>
        RetrieveAsync(Db(httpContext), key, cancellationToken);

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public Task RemoveAsync(string key, CancellationToken cancellationToken) =>
        InScopeAsync(db => RemoveAsync(db, key, cancellationToken));

    public Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken) =>
        RemoveAsync(Db(httpContext), key, cancellationToken);

    /// <summary>Of <paramref name="sessionIds"/>, those not signed out nor expired.</summary>
    public Task<List<Guid>> StillOpenAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken cancellationToken) =>
        InScopeAsync(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
            return await db.UserSessions.AsNoTracking().Where(s => sessionIds.Contains(s.Id) && s.ExpiresAt > now).Select(s => s.Id).ToListAsync(cancellationToken);
        });

    /// <summary>
    /// Gives every open browser session of <paramref name="userId"/> the tenants it now serves, on <paramref name="db"/>
    /// (tracked, so the caller's save writes them with the assignment itself): a session is on the server, so a tenant
    /// assignment reaches it on its next request rather than at its next stamp check, and a hub connection the change
    /// closes reconnects with the new tenants. A request renewing its cookie at that moment may write the old claims
    /// back; the stamp check (Identity:SessionRecheckSeconds) rebuilds them from the database.
    /// </summary>
    public async Task RetenantAsync(ProDeskDbContext db, Guid userId, IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        foreach (var session in await db.UserSessions.Where(s => s.UserId == userId && s.ExpiresAt > now).ToListAsync(cancellationToken))
        {
            if (TicketSerializer.Default.Deserialize(session.Ticket) is not { Principal.Identity: ClaimsIdentity identity } ticket)
            {
                continue;
            }

            foreach (var old in identity.FindAll(ProDeskClaims.Tenant).ToList())
            {
                identity.RemoveClaim(old);
            }

            foreach (var tenant in tenants)
            {
                identity.AddClaim(new Claim(ProDeskClaims.Tenant, tenant.ToString()));
            }

            session.Ticket = TicketSerializer.Default.Serialize(ticket);
        }
    }

    /// <summary>Ends every browser session of <paramref name="userId"/> but <paramref name="keep"/> (the one asking), at once.</summary>
    public async Task EndOthersAsync(Guid userId, Guid? keep, CancellationToken cancellationToken)
    {
        var ended = await InScopeAsync(async db =>
        {
            using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
            return await db.UserSessions.Where(s => s.UserId == userId && s.Id != keep).ExecuteDeleteAsync(cancellationToken);
        });
        if (ended > 0)
        {
            hubSessions.RecheckNow();
        }
    }

    /// <summary>The session <paramref name="principal"/> came with; null for other credentials.</summary>
    public static Guid? SessionOf(ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirst(ClaimType)?.Value, out var id) ? id : null;

    /// <summary>Deletes the sessions that expired (recurring job, with token pruning).</summary>
    public Task<int> PruneAsync(CancellationToken cancellationToken) =>
        InScopeAsync(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
            return await db.UserSessions.Where(s => s.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        });

    private async Task<string> StoreAsync(ProDeskDbContext db, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(ticket.Principal.FindFirst(ProDeskClaims.Subject)?.Value, out var userId))
        {
            throw new InvalidOperationException("A browser session needs a user.");
        }

        var key = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var id = Guid.NewGuid();
        var now = clock.GetUtcNow().UtcDateTime;
        Name(ticket, id, now);
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        db.UserSessions.Add(new UserSession
        {
            KeyHash = Hash(key),
            Id = id,
            UserId = userId,
            Ticket = TicketSerializer.Default.Serialize(ticket),
            CreatedAt = now,
            ExpiresAt = ExpiresAt(ticket),
        });
        await db.SaveChangesAsync(cancellationToken);
        return key;
    }

    private async Task RenewAsync(ProDeskDbContext db, string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var hash = Hash(key);
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        var session = await db.UserSessions.AsNoTracking().Where(s => s.KeyHash == hash).Select(s => new { s.Id, s.CreatedAt }).FirstOrDefaultAsync(cancellationToken);
        if (session is null)
        {
            // Signed out meanwhile (another tab): renewing must not bring the session back.
            return;
        }

        // A principal built afresh from the user (a password change signs in again) keeps the session's name and start.
        Name(ticket, session.Id, session.CreatedAt);
        var serialized = TicketSerializer.Default.Serialize(ticket);
        var expiresAt = ExpiresAt(ticket);
        await db.UserSessions.Where(s => s.KeyHash == hash)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Ticket, serialized).SetProperty(x => x.ExpiresAt, expiresAt), cancellationToken);
    }

    private async Task<AuthenticationTicket?> RetrieveAsync(ProDeskDbContext db, string key, CancellationToken cancellationToken)
    {
        var hash = Hash(key);
        var now = clock.GetUtcNow().UtcDateTime;
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        var ticket = await db.UserSessions.AsNoTracking().Where(s => s.KeyHash == hash && s.ExpiresAt > now).Select(s => s.Ticket).FirstOrDefaultAsync(cancellationToken);
        return ticket is null ? null : TicketSerializer.Default.Deserialize(ticket);
    }

    private async Task RemoveAsync(ProDeskDbContext db, string key, CancellationToken cancellationToken)
    {
        var hash = Hash(key);
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        if (await db.UserSessions.Where(s => s.KeyHash == hash).ExecuteDeleteAsync(cancellationToken) > 0)
        {
            hubSessions.RecheckNow();
        }
    }

    private DateTime ExpiresAt(AuthenticationTicket ticket) =>
        (ticket.Properties.ExpiresUtc ?? clock.GetUtcNow() + DefaultLifetime).UtcDateTime;

    private static void Name(AuthenticationTicket ticket, Guid sessionId, DateTime signedInAt)
    {
        if (ticket.Principal.Identity is not ClaimsIdentity identity)
        {
            return;
        }

        foreach (var old in identity.Claims.Where(c => c.Type is ClaimType or SignedInAtClaimType).ToList())
        {
            identity.RemoveClaim(old);
        }

        identity.AddClaim(new Claim(ClaimType, sessionId.ToString()));
        identity.AddClaim(new Claim(SignedInAtClaimType, new DateTimeOffset(signedInAt, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static byte[] Hash(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    private static ProDeskDbContext Db(HttpContext httpContext) => httpContext.RequestServices.GetRequiredService<ProDeskDbContext>();

    private async Task<T> InScopeAsync<T>(Func<ProDeskDbContext, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ProDeskDbContext>());
    }

    private async Task InScopeAsync(Func<ProDeskDbContext, Task> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<ProDeskDbContext>());
    }
}
