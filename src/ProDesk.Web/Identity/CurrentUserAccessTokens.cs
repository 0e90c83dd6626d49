using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
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
/// tokens have no user and carry no hash.
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
        if (context.IsRejected || context.AccessTokenPrincipal is not { } principal
            || principal.GetClaim(StampHash.ClaimType) is not { Length: > 0 } issuedWith)
        {
            return;
        }

        var stamp = Guid.TryParse(principal.GetClaim(ProDeskClaims.Subject), out var userId)
            ? await StampOfAsync(userId, context.CancellationToken)
            : null;
        if (stamp is null || StampHash.Of(stamp) != issuedWith)
        {
            context.Reject(
                error: OpenIddictConstants.Errors.InvalidToken,
                description: "The token's user has changed since it was issued (password, roles or tenants); sign in again.");
        }
    }

    private async Task<string?> StampOfAsync(Guid userId, CancellationToken cancellationToken)
    {
        using var identityTablesOnly = db.OnTablesWithoutRowLevelSecurity();
        // A user who is gone has no stamp, and its token nothing to act as.
        return await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.SecurityStamp ?? "").FirstOrDefaultAsync(cancellationToken);
    }
}
