using Microsoft.AspNetCore.Authorization;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin.Staff;

/// <summary>A provider admin's staff accounts: invite, disable, enable, mail a password link.</summary>
[Authorize(Policy = CurrentSession.ProviderAdminPolicy)]
public sealed class AccountsModel(UserAccounts accounts, ProDeskDbContext db, ITenantStore tenants) : UserAccountsPageModel(accounts, db, tenants)
{
    public override IReadOnlyList<string> InvitableRoles => Roles.Staff;

    protected override TenantInfo? Tenant => null;
}
