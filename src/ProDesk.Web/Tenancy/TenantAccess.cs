using System.Security.Claims;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Tenancy;

/// <summary>
/// Which tenants a caller may act in, from its claims: client users and integration clients carry
/// one <c>tenant</c> claim (the tenant id), agents one per tenant served, and provider admins and
/// supervisors act in every tenant. Anonymous callers reach only public tenant routes, whose
/// endpoints decide what they show.
/// </summary>
public sealed class TenantAccess(ITenantStore store, TenantScopes scopes)
{
    public const string TenantClaim = "tenant";

    public static bool IsProviderWide(ClaimsPrincipal user) =>
        user.IsInRole(Roles.ProviderAdmin) || user.IsInRole(Roles.Supervisor);

    public static bool MayActIn(ClaimsPrincipal user, TenantInfo tenant)
    {
        if (user.Identity?.IsAuthenticated != true || IsProviderWide(user))
        {
            return true;
        }

        var id = tenant.Id.ToString();
        return user.FindAll(TenantClaim).Any(c => string.Equals(c.Value, id, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The scope of everything the caller may act in, for routes and hub calls that name no tenant.</summary>
    public async ValueTask<TenantScope> ScopeOfAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return TenantScope.None;
        }

        if (IsProviderWide(user))
        {
            return scopes.ForTenants(await store.ListAsync(cancellationToken), "provider-staff");
        }

        var tenants = new List<TenantInfo>();
        foreach (var claim in user.FindAll(TenantClaim))
        {
            if (Guid.TryParse(claim.Value, out var id) && await store.FindByIdAsync(id, cancellationToken) is { } tenant)
            {
                tenants.Add(tenant);
            }
        }

        return tenants.Count == 1 ? scopes.ForTenant(tenants[0]) : scopes.ForTenants(tenants, "tenants-served");
    }
}
