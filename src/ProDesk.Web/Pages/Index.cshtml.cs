using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages;

/// <summary>The product's landing page, or a client's support page when its own host name was used.</summary>
public sealed class IndexModel(ITenantContext tenantContext) : PageModel
{
    public TenantInfo? Tenant { get; private set; }

    public void OnGet() => Tenant = tenantContext.Current;
}
