using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Hosting;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.Identity;

/// <summary>Creates, lists, finds and revokes personal access tokens (<c>pdk_</c> + 43 url-safe characters).</summary>
public sealed class PersonalAccessTokens(ProDeskDbContext db, AuditLog audit, TimeProvider clock, HubSessions hubSessions)
{
    public const string Prefix = "pdk_";

    /// <summary>The longest token name kept; the API and the command line refuse longer ones rather than cut them.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Writes of the last-used time are spaced out so that a busy token does not write on every request.</summary>
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public sealed record Created(PersonalAccessToken Token, string Secret);

    /// <summary>A token of <paramref name="user"/>, audited as made by the user themselves.</summary>
    public Task<Created> CreateAsync(AppUser user, string name, CancellationToken cancellationToken = default) =>
        CreateAsync(user, name, user.Id, user.Email, null, cancellationToken);

    /// <summary>A token of <paramref name="user"/> made by someone else (the command line's operator), audited as theirs.</summary>
    public async Task<Created> CreateAsync(AppUser user, string name, Guid? actorId, string? actorName, string? details, CancellationToken cancellationToken = default)
    {
        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        // A name is a label shown in lists: one line, no control characters, at most 100 characters.
        var label = ColumnText.Fit(new string((name ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim(), MaxNameLength);
        var token = new PersonalAccessToken
        {
            Id = Guid.CreateVersion7(),
            UserId = user.Id,
            Name = label.Length == 0 ? "token" : label,
            Prefix = secret[Prefix.Length..(Prefix.Length + 8)],
            Hash = Hash(secret),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.PersonalAccessTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditLog.TokenCreated, actorId, actorName, $"token {token.Prefix} ({token.Name})", user.TenantId, details, cancellationToken);
        return new Created(token, secret);
    }

    public Task<List<PersonalAccessToken>> ListAsync(Guid userId, CancellationToken cancellationToken = default) =>
        db.PersonalAccessTokens.Where(t => t.UserId == userId).OrderByDescending(t => t.CreatedAt).AsNoTracking().ToListAsync(cancellationToken);

    /// <summary>Revokes one of the user's own tokens; false when there is no such token of theirs.</summary>
    public async Task<bool> RevokeAsync(AppUser user, Guid tokenId, CancellationToken cancellationToken = default)
    {
        var token = await db.PersonalAccessTokens.AsNoTracking().SingleOrDefaultAsync(t => t.Id == tokenId && t.UserId == user.Id && t.RevokedAt == null, cancellationToken);
        if (token is null)
        {
            return false;
        }

        // Revoked only where no other request revoked it first: of ten revocations at once, one is done (and audited), the rest find none.
        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.PersonalAccessTokens.Where(t => t.Id == token.Id && t.RevokedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.RevokedAt, now), cancellationToken) == 0)
        {
            return false;
        }

        // A hub connection opened with the token ends now, not at the next re-check.
        hubSessions.RecheckNow();
        await audit.RecordAsync(AuditLog.TokenRevoked, user.Id, user.Email, $"token {token.Prefix} ({token.Name})", user.TenantId, cancellationToken: cancellationToken);
        return true;
    }

    /// <summary>Revokes every token of the user (password change, account lock).</summary>
    public async Task<int> RevokeAllAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var revoked = await db.PersonalAccessTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        if (revoked > 0)
        {
            hubSessions.RecheckNow();
        }

        return revoked;
    }

    private sealed record Found(Guid Id, DateTime? LastUsedAt, AppUser User);

    // Compiled once: on every API request, building and looking up the expression tree cost more CPU than the query.
    private static readonly CompiledPerModel<Func<ProDeskDbContext, byte[], CancellationToken, Task<Found?>>> FindByHash = new(() =>
        EF.CompileAsyncQuery((ProDeskDbContext db, byte[] hash, CancellationToken cancellationToken) =>
            db.PersonalAccessTokens.AsNoTracking()
                .Where(t => t.Hash == hash && t.RevokedAt == null)
                .Join(db.Users.AsNoTracking(), t => t.UserId, u => u.Id, (t, u) => new Found(t.Id, t.LastUsedAt, u))
                .SingleOrDefault()));

    /// <summary>A valid token's id and its user.</summary>
    public sealed record TokenUser(Guid TokenId, AppUser User);

    /// <summary>
    /// The user of a valid, unrevoked token, or null, in one query (this runs on every API request).
    /// Records when the token was last used, at most once a minute.
    /// </summary>
    public async Task<TokenUser?> FindUserAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return null;
        }

        var hash = Hash(secret);
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        var found = await FindByHash.For(db)(db, hash, cancellationToken);
        if (found is null)
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (found.LastUsedAt is null || now - found.LastUsedAt > LastUsedResolution)
        {
            var stale = now - LastUsedResolution;
            await db.PersonalAccessTokens.Where(t => t.Id == found.Id && (t.LastUsedAt == null || t.LastUsedAt < stale))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }

        return new TokenUser(found.Id, found.User);
    }

    /// <summary>Of <paramref name="tokenIds"/>, those still valid (not revoked, not deleted).</summary>
    public async Task<List<Guid>> StillValidAsync(IReadOnlyCollection<Guid> tokenIds, CancellationToken cancellationToken = default)
    {
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        return await db.PersonalAccessTokens.AsNoTracking().Where(t => tokenIds.Contains(t.Id) && t.RevokedAt == null).Select(t => t.Id).ToListAsync(cancellationToken);
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
