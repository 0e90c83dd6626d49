using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Reports;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Portal;

/// <summary>A client's start page: its SLA compliance over the last 30 days by queue, with the report's CSV exports.</summary>
[Authorize(Roles = "ClientAdmin,ClientViewer")]
public sealed class IndexModel(ITenantContext tenantContext, SlaReport report, TimeProvider clock) : PageModel
{
    public const int Days = 30;

    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    public SlaReportResult? Report { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // A client user's scope is its one tenant; the report reads in it.
        if (tenantContext.Current is not null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            Report = await report.RunAsync(now.AddDays(-Days), now, SlaReportGrouping.Queue, cancellationToken);
        }
    }
}
