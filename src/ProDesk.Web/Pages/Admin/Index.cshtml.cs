using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin;

[Authorize(Roles = "ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext) : PageModel
{
    /// <summary>The tenants this page may show, from the caller's own scope.</summary>
    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    public void OnGet()
    {
    }
}
