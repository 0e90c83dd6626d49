using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// The provider-admin actions (staff, SLA policies and calendars, mailboxes, quarantined mail) ask for the session as the
/// database has it now, not as the sign-in cookie remembered it: a browser session re-reads its user only every
/// Identity:SessionRecheckSeconds, and within that window an admin just demoted could have given the role back to
/// themselves. A cookie's security stamp is compared with the user's on every such request (a role, tenant or password
/// change renews it); bearer tokens are checked on every request already (<see cref="CurrentUserAccessTokens"/>, PATs).
/// Whatever makes a credential (personal access tokens) or changes how one signs in (2FA) asks the same of any user:
/// a session left open elsewhere after a password change could otherwise mint a token that outlives it (probe round 8).
/// </summary>
public static class CurrentSession
{
    public const string ProviderAdminPolicy = "current-provider-admin";

    /// <summary>A provider admin, or a client admin (in its own tenant, which tenant resolution holds it to), as the database has the session now.</summary>
    public const string TenantAdminPolicy = "current-tenant-admin";

    /// <summary>Any signed-in user, as the database has the session now.</summary>
    public const string Policy = "current-session";

    public static void AddCurrentSessionPolicy(this IServiceCollection services)
    {
        services.AddScoped<IAuthorizationHandler, Handler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(ProviderAdminPolicy, p => p.RequireRole(Roles.ProviderAdmin).AddRequirements(new Requirement()))
            .AddPolicy(TenantAdminPolicy, p => p.RequireRole(Roles.ProviderAdmin, Roles.ClientAdmin).AddRequirements(new Requirement()))
            .AddPolicy(Policy, p => p.RequireAuthenticatedUser().AddRequirements(new Requirement()));
    }

    private sealed class Requirement : IAuthorizationRequirement;

    private sealed class Handler(UserManager<AppUser> users, IOptions<IdentityOptions> identity) : AuthorizationHandler<Requirement>
    {
        protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, Requirement requirement)
        {
            if (context.User.FindFirst(identity.Value.ClaimsIdentity.SecurityStampClaimType)?.Value is not { } stamp)
            {
                context.Succeed(requirement);
                return;
            }

            if (await users.GetUserAsync(context.User) is { } user && user.SecurityStamp == stamp)
            {
                context.Succeed(requirement);
            }
        }
    }
}
