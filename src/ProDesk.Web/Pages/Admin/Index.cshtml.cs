using Microsoft.AspNetCore.Authorization;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin;

[Authorize(Roles = "ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext) : StartPageModel(tenantContext);
