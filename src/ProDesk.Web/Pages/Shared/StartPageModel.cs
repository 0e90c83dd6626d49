using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages;

/// <summary>The start page of a role: shows the tenants in the caller's own scope.</summary>
public abstract class StartPageModel(ITenantContext tenantContext) : PageModel
{
    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    public void OnGet()
    {
    }
}
