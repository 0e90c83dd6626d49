using Microsoft.AspNetCore.Authorization;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Portal;

[Authorize(Roles = "ClientAdmin,ClientViewer")]
public sealed class IndexModel(ITenantContext tenantContext) : StartPageModel(tenantContext);
