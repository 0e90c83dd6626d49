using Microsoft.AspNetCore.Authorization;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Agent;

[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext) : StartPageModel(tenantContext);
