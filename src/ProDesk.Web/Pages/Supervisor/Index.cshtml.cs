using Microsoft.AspNetCore.Authorization;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Supervisor;

[Authorize(Roles = "Supervisor,ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext) : StartPageModel(tenantContext);
