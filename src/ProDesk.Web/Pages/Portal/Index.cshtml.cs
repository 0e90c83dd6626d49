using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Data;
using ProDesk.Web.Csat;
using ProDesk.Web.Reports;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Portal;

/// <summary>
/// A client's start page, over the last 30 days: its SLA compliance by queue and as a chart by day, with the report's CSV
/// exports, and its customers' satisfaction (count, average, how many gave each score, the latest comments).
/// </summary>
[Authorize(Roles = "ClientAdmin,ClientViewer")]
public sealed class IndexModel(ITenantContext tenantContext, SlaReport report, ProDeskDbContext db, TimeProvider clock) : PageModel
{
    public const int Days = 30;

    /// <summary>How many of the period's latest comments the page lists.</summary>
    public const int Comments = 10;

    public CsatFigures? Csat { get; private set; }

    public IReadOnlyList<CsatRatingView> CsatComments { get; private set; } = [];

    /// <summary>The start of the period, for the CSAT API link.</summary>
    public DateTime From { get; private set; }

    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    public SlaReportResult? Report { get; private set; }

    /// <summary>The same period by the client's days, every day a row: the chart's series.</summary>
    public SlaReportResult? Daily { get; private set; }

    /// <summary>
    /// The chart's data as the page embeds it (a JSON data block, read by wwwroot/js/portal-chart.js): days, items per
    /// day, and each day's first-response and resolution compliance (null on a day with nothing met or breached).
    /// The serializer escapes &lt; &gt; &amp;, so nothing in it can close the block.
    /// </summary>
    public string DailyJson => Daily is null ? "null" : System.Text.Json.JsonSerializer.Serialize(new
    {
        days = Daily.Rows.Select(r => r.Group),
        items = Daily.Rows.Select(r => r.Items),
        firstResponse = Daily.Rows.Select(r => r.Targets.GetValueOrDefault("firstResponse")?.CompliancePercent),
        resolution = Daily.Rows.Select(r => r.Targets.GetValueOrDefault("resolution")?.CompliancePercent),
    });

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // A client user's scope is its one tenant; the report reads in it.
        if (tenantContext.Current is not null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            From = now.AddDays(-Days);
            // The table and the chart from one read of the month's items and clocks.
            var reports = await report.RunAsync(From, now, [SlaReportGrouping.Queue, SlaReportGrouping.Day], cancellationToken);
            (Report, Daily) = (reports[0], reports[1]);
            // The same period as the SLA table, by when the customer rated.
            Csat = await CsatFigures.OfAsync(db.CsatRatings.Where(r => r.RatedAt >= From && r.RatedAt < now), cancellationToken);
            CsatComments = await CsatApi.LatestCommentsAsync(db, From, now, Comments, cancellationToken);
        }
    }
}
