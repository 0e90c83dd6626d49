using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity;

/// <summary>
/// The claims a signed-in user carries: roles, email, display name, and one <c>tenant</c> claim per
/// tenant it may act in (a client user's own; an agent's served tenants). Rebuilt when the security
/// stamp is revalidated, so an assignment change reaches existing sessions.
/// </summary>
public sealed class ProDeskClaimsFactory(
    UserManager<AppUser> users,
    RoleManager<AppRole> roles,
    IOptions<IdentityOptions> options,
    ProDeskDbContext db)
    : UserClaimsPrincipalFactory<AppUser, AppRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(ProDeskClaims.Name, user.DisplayName));
        foreach (var tenantId in await TenantsOfAsync(db, user))
        {
            identity.AddClaim(new Claim(TenantAccess.TenantClaim, tenantId.ToString()));
        }

        return identity;
    }

    /// <summary>A client user's one tenant, or the tenants a member of staff serves.</summary>
    public static async Task<IReadOnlyList<Guid>> TenantsOfAsync(ProDeskDbContext db, AppUser user) =>
        user.TenantId is { } own
            ? [own]
            : await db.StaffTenants.Where(s => s.UserId == user.Id).Select(s => s.TenantId).ToListAsync();
}
