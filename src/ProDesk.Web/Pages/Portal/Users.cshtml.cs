using Microsoft.AspNetCore.Authorization;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Portal;

/// <summary>A client admin manages its own company's users (its one tenant, from its claim).</summary>
[Authorize(Policy = CurrentSession.Policy, Roles = Roles.ClientAdmin)]
public sealed class UsersModel(UserAccounts accounts, ProDeskDbContext db, ITenantStore tenants, ITenantContext tenantContext) : UserAccountsPageModel(accounts, db, tenants)
{
    public override IReadOnlyList<string> InvitableRoles => Roles.Client;

    // A client user's scope is its one tenant; without one (none resolved) the page manages nobody.
    protected override TenantInfo? Tenant => tenantContext.Current ?? throw new InvalidOperationException("A client admin acts in its one tenant.");
}
