using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Validation;
using ProDesk.Data;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace ProDesk.Web.Identity;

/// <summary>
/// A user's OAuth access token holds while its user is as it was at issue: the token carries its user's roles
/// and a hash of the security stamp (<see cref="StampHash"/>), which every role and password change renews. So each
/// request with a user's token compares that hash with the user's stamp now, as personal access tokens are read on
/// every request: a password changed ("every token of yours has ended") or a role taken away is refused at once rather
/// than when the token expires an hour later. The tenants served are no credential: the same query reads them, and they
/// replace the token's own <c>tenant</c> claims, so a client added to an agent's list works at once and one taken away
/// is 404 at once, without ending the token (probe round 20). The same query asks whether the token's own entry is
/// still valid: OpenIddict revokes every token of an authorization when its code or a refresh token is used twice
/// (RFC 6749 10.5, RFC 9700 4.14), and a self-contained token would otherwise act on for its hour. Client-credentials
/// tokens have no user and carry no hash; their entry is asked the same, so rotating an integration's secret (which
/// revokes its tokens) ends them too, within the minute <see cref="ClientAccessTokenHandler"/> keeps one as checked.
/// A token without the "api" scope acts on nothing.
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

        // A token issued without an entry (none is, with token storage on) has nothing to look up.
        Guid? entry = Guid.TryParse(principal.GetTokenId(), out var tokenId) ? tokenId : null;
        if (principal.GetClaim(StampHash.ClaimType) is not { Length: > 0 } issuedWith)
        {
            // An integration's token: no user, but its entry is revoked when the client's secret is rotated.
            if (entry is not null && !await ValidEntryAsync(entry.Value, context.CancellationToken))
            {
                context.Reject(error: OpenIddictConstants.Errors.InvalidToken, description: "The token has been revoked (the client's secret was rotated); ask for a new one.");
            }

            return;
        }

        var now = Guid.TryParse(principal.GetClaim(ProDeskClaims.Subject), out var userId)
            ? await UserAndTokenAsync(userId, entry, context.CancellationToken)
            : null;
        if (now is null || StampHash.Of(now.Stamp) != issuedWith)
        {
            context.Reject(
                error: OpenIddictConstants.Errors.InvalidToken,
                description: "The token's user has changed since it was issued (password or roles); sign in again.");
        }
        else if (!now.TokenValid)
        {
            context.Reject(error: OpenIddictConstants.Errors.InvalidToken, description: "The token has been revoked; sign in again.");
        }
        else if (principal.Identity is ClaimsIdentity identity)
        {
            // The tenants as they are now, not as they were at issue.
            foreach (var old in identity.FindAll(ProDeskClaims.Tenant).ToList())
            {
                identity.RemoveClaim(old);
            }

            foreach (var tenant in now.OwnTenant is { } own ? [own] : now.Served)
            {
                identity.AddClaim(new Claim(ProDeskClaims.Tenant, tenant.ToString()));
            }
        }
    }

    private sealed record UserAndToken(string Stamp, bool TokenValid, Guid? OwnTenant, List<Guid> Served);

    private async Task<UserAndToken?> UserAndTokenAsync(Guid userId, Guid? entry, CancellationToken cancellationToken)
    {
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        // A user who is gone has no stamp, and its token nothing to act as. A client user's tenant is its own; staff's
        // are the rows of the tenants served (ProDeskClaimsFactory.TenantsOfAsync, in the same query).
        return await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new UserAndToken(
                u.SecurityStamp ?? "",
                entry == null || db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().Any(t => t.Id == entry && t.Status == OpenIddictConstants.Statuses.Valid),
                u.TenantId,
                db.StaffTenants.Where(s => s.UserId == u.Id).Select(s => s.TenantId).ToList()))
            .FirstOrDefaultAsync(cancellationToken);
    }

    private async Task<bool> ValidEntryAsync(Guid entry, CancellationToken cancellationToken)
    {
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        return await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AnyAsync(t => t.Id == entry && t.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
    }
}
