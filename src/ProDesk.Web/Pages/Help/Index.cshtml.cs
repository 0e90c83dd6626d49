using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Help;

/// <summary>
/// A client's public support page at /t/{tenant}. The tenant comes from the route value; an
/// unknown slug never reaches this page (the resolution middleware answers 404).
/// </summary>
public sealed class IndexModel(ITenantContext tenantContext) : PageModel
{
    public TenantInfo Tenant { get; private set; } = null!;

    public void OnGet() => Tenant = tenantContext.Current ?? throw new InvalidOperationException("The tenant route resolved no tenant.");
}
