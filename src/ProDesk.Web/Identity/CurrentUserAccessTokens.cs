using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Validation;
using ProDesk.Data;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace ProDesk.Web.Identity;

/// <summary>
/// A user's OAuth access token holds while its user is as it was at issue: the token carries its user's roles
/// and tenants, and a hash of the security stamp (<see cref="StampHash"/>), which every role, tenant-assignment and
/// password change renews. So each request with a user's token compares that hash with the user's stamp now, as
/// personal access tokens are read on every request: a tenant taken away, or a password changed ("every token of
/// yours has ended"), is refused at once rather than when the token expires an hour later. Client-credentials
/// tokens have no user and carry no hash. The same query asks whether the token's own entry is still valid: OpenIddict
/// revokes every token of an authorization when its code or a refresh token is used twice (RFC 6749 10.5, RFC 9700
/// 4.14), and a self-contained token would otherwise act on for its hour. A token without the "api" scope acts on nothing.
/// </summary>
public sealed class CurrentUserAccessTokens(ProDeskDbContext db) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<CurrentUserAccessTokens>()
            .SetOrder(OpenIddictValidationHandlers.ValidateAccessToken.Descriptor.Order + 500)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.IsRejected || context.AccessTokenPrincipal is not { } principal)
        {
            return;
        }

        // Access tokens are read only by the API and the hubs: one granted without the "api" scope (a client that asked
        // for openid or profile alone) was not given to act on them (RFC 6750 3.1).
        if (!principal.HasScope(IdentityExtensions.ApiScope))
        {
            context.Reject(
                error: OpenIddictConstants.Errors.InsufficientScope,
                description: $"The token was not granted the '{IdentityExtensions.ApiScope}' scope; ask for scope={IdentityExtensions.ApiScope}.");
            return;
        }

        if (principal.GetClaim(StampHash.ClaimType) is not { Length: > 0 } issuedWith)
        {
            return;
        }

        var now = Guid.TryParse(principal.GetClaim(ProDeskClaims.Subject), out var userId)
            ? await UserAndTokenAsync(userId, principal.GetTokenId(), context.CancellationToken)
            : null;
        if (now is null || StampHash.Of(now.Stamp) != issuedWith)
        {
            context.Reject(
                error: OpenIddictConstants.Errors.InvalidToken,
                description: "The token's user has changed since it was issued (password, roles or tenants); sign in again.");
        }
        else if (!now.TokenValid)
        {
            context.Reject(error: OpenIddictConstants.Errors.InvalidToken, description: "The token has been revoked; sign in again.");
        }
    }

    private sealed record UserAndToken(string Stamp, bool TokenValid);

    private async Task<UserAndToken?> UserAndTokenAsync(Guid userId, string? tokenId, CancellationToken cancellationToken)
    {
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        // A token issued without an entry (none is, with token storage on) has nothing to look up.
        Guid? entry = Guid.TryParse(tokenId, out var id) ? id : null;
        // A user who is gone has no stamp, and its token nothing to act as.
        return await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new UserAndToken(u.SecurityStamp ?? "", entry == null
                || db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().Any(t => t.Id == entry && t.Status == OpenIddictConstants.Statuses.Valid)))
            .FirstOrDefaultAsync(cancellationToken);
    }
}
