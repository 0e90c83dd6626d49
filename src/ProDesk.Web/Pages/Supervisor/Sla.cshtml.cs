using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Reports;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Supervisor;

/// <summary>
/// Every client the supervisor serves on one page, over the last 30 days: items, first-response and resolution
/// compliance, worst first, each with its report's exports. Each client's figures are read in that client's scope
/// alone, as the client's own portal reads them, so one row can never count another client's items.
/// </summary>
[Authorize(Roles = "Supervisor,ProviderAdmin")]
public sealed class SlaModel(ITenantContext tenantContext, TenantScopes scopes, SlaReport report, TimeProvider clock) : PageModel
{
    public const int Days = 30;

    public sealed record ClientLine(TenantInfo Tenant, SlaReportRow Total)
    {
        public SlaTargetFigures? FirstResponse => Total.Targets.GetValueOrDefault("firstResponse");

        public SlaTargetFigures? Resolution => Total.Targets.GetValueOrDefault("resolution");
    }

    public IReadOnlyList<ClientLine> Clients { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var lines = new List<ClientLine>();
        foreach (var tenant in tenantContext.Scope.Tenants)
        {
            using (TenantScopes.Enter(scopes.ForTenant(tenant)))
            {
                lines.Add(new ClientLine(tenant, (await report.RunAsync(now.AddDays(-Days), now, SlaReportGrouping.Queue, cancellationToken)).Total));
            }
        }

        // The client furthest below its targets first; clients with nothing met or breached yet last.
        Clients = [.. lines.OrderBy(l => l.FirstResponse?.CompliancePercent ?? double.MaxValue)
            .ThenBy(l => l.Resolution?.CompliancePercent ?? double.MaxValue).ThenBy(l => l.Tenant.Name, StringComparer.CurrentCulture)];
    }
}
