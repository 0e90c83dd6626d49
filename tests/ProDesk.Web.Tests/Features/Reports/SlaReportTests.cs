using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Web.Sla;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Reports;

/// <summary>
/// A client's SLA compliance report on the test clock: sla-lab answers within 1 minute (24/7). Three conversations:
/// one answered in 30 s, one never answered and breached, one still within its minute when the report runs.
/// </summary>
public sealed class SlaReportTests(SlaApp app) : SlaTest(app)
{
    private async Task<(Guid Met, Guid Breached, Guid Open)> ThreeConversationsAsync()
    {
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var integration = await App.IntegrationClientAsync("sla-lab");
        var met = await integration.CreateConversationAsync("sla-lab", "report-met");
        var breached = await integration.CreateConversationAsync("sla-lab", "report-breached");
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{met}/replies", new { body = "On it." })).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(60));
        var open = await integration.CreateConversationAsync("sla-lab", "report-open");
        App.Clock.Advance(TimeSpan.FromSeconds(20));
        await App.Services.GetRequiredService<SlaSweeper>().SweepOnceAsync(CancellationToken.None);
        return (met, breached, open);
    }

    private string Today => App.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private string Tomorrow => App.Clock.GetUtcNow().UtcDateTime.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static JsonElement Target(JsonElement row, string name) => row.GetProperty("targets").GetProperty(name);

    [Fact]
    public async Task A_client_viewer_sees_what_was_met_breached_and_still_open_by_queue_and_as_csv()
    {
        await ThreeConversationsAsync();
        var viewer = App.CreateClient().WithBearer((await App.PatAsync("viewer@sla-lab.test")).Secret);

        var report = await viewer.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Today}&to={Tomorrow}");
        Assert.Equal(("sla-lab", "queue"), (report.GetProperty("tenant").GetString(), report.GetProperty("groupBy").GetString()));
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray());
        Assert.Equal(("fast", 3), (row.GetProperty("group").GetString(), row.GetProperty("items").GetInt32()));
        var first = Target(row, "firstResponse");
        Assert.Equal((1, 1, 1), (first.GetProperty("met").GetInt32(), first.GetProperty("breached").GetInt32(), first.GetProperty("open").GetInt32()));
        Assert.Equal(50.0, first.GetProperty("compliancePercent").GetDouble());
        Assert.Equal(0.5, first.GetProperty("averageMinutes").GetDouble());
        var resolution = Target(row, "resolution");
        Assert.Equal((0, 0, 3), (resolution.GetProperty("met").GetInt32(), resolution.GetProperty("breached").GetInt32(), resolution.GetProperty("open").GetInt32()));
        Assert.Equal(JsonValueKind.Null, resolution.GetProperty("compliancePercent").ValueKind);
        Assert.Equal(3, report.GetProperty("total").GetProperty("items").GetInt32());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/sla-lab/reports/sla?from={Today}&to={Tomorrow}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var csv = await viewer.SendAsync(request);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("group,items,target,met,breached,open,stopped,compliance_percent,average_minutes", lines[0]);
        Assert.Contains("fast,3,firstResponse,1,1,1,0,50,0.5", lines);
        Assert.Contains("fast,3,resolution,0,0,3,0,,", lines);
        Assert.Contains("total,3,firstResponse,1,1,1,0,50,0.5", lines);
    }

    [Fact]
    public async Task A_caller_asking_for_csv_gets_its_errors_as_problem_details()
    {
        // Accept: text/csv alone, as a spreadsheet's web query sends: a 404 (another tenant) and a 401 (no token) are
        // still RFC 9457 bodies, as a 400 is, not the status-code page's plain text.
        var viewer = App.CreateClient().WithBearer((await App.PatAsync("viewer@sla-lab.test")).Secret);
        foreach (var (client, slug, status) in new[] { (viewer, "acme", HttpStatusCode.NotFound), (App.CreateClient(), "sla-lab", HttpStatusCode.Unauthorized) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{slug}/reports/sla?from={Today}&to={Tomorrow}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
            var answer = await client.SendAsync(request);

            Assert.Equal(status, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
            // The same shape as for a caller accepting JSON.
            Assert.StartsWith("https://tools.ietf.org/html/rfc9110#section-15.5.", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Grouped_by_priority_a_breach_counts_where_it_was_measured_and_by_day_on_the_tenants_date()
    {
        var (_, breached, _) = await ThreeConversationsAsync();
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@sla-lab.test")).Secret);
        // The policy's breach escalation raised the unanswered one to High ...
        Assert.Equal("High", (await admin.JsonAsync($"/api/v1/tenants/sla-lab/work-items/{breached}")).GetProperty("item").GetProperty("priority").GetString());

        // ... but Normal's one-minute target is the one it missed: it counts there, not against High's.
        var byPriority = await admin.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Today}&to={Tomorrow}&groupBy=priority");
        var row = Assert.Single(byPriority.GetProperty("rows").EnumerateArray());
        Assert.Equal(("Normal", 3), (row.GetProperty("group").GetString(), row.GetProperty("items").GetInt32()));
        Assert.Equal((1, 1, 1), (Target(row, "firstResponse").GetProperty("met").GetInt32(), Target(row, "firstResponse").GetProperty("breached").GetInt32(), Target(row, "firstResponse").GetProperty("open").GetInt32()));

        var byDay = await admin.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Today}&to={Tomorrow}&groupBy=Day");
        Assert.Equal(Today, Assert.Single(byDay.GetProperty("rows").EnumerateArray()).GetProperty("group").GetString());
        Assert.Equal("Etc/UTC", byDay.GetProperty("timeZone").GetString());

        // Outside the period, nothing; without a period, the last 30 days.
        var later = await admin.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Tomorrow}&to={App.Clock.GetUtcNow().UtcDateTime.AddDays(2):yyyy-MM-dd}");
        Assert.Empty(later.GetProperty("rows").EnumerateArray());
        Assert.Equal(3, (await admin.JsonAsync("/api/v1/tenants/sla-lab/reports/sla")).GetProperty("total").GetProperty("items").GetInt32());
    }

    [Fact]
    public async Task By_day_every_day_of_the_period_has_its_row_the_quiet_ones_too()
    {
        await ThreeConversationsAsync();
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@sla-lab.test")).Secret);
        string Day(int offset) => App.Clock.GetUtcNow().UtcDateTime.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        // The end is exclusive: from three days ago to three days ahead is six days, today the fourth.
        var byDay = await admin.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Day(-3)}&to={Day(3)}&groupBy=day");
        var rows = byDay.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([Day(-3), Day(-2), Day(-1), Today, Day(1), Day(2)], rows.Select(r => r.GetProperty("group").GetString()));
        Assert.Equal([0, 0, 0, 3, 0, 0], rows.Select(r => r.GetProperty("items").GetInt32()));
        Assert.Empty(rows[0].GetProperty("targets").EnumerateObject());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/sla-lab/reports/sla?from={Day(-3)}&to={Day(3)}&groupBy=day&format=csv");
        var csv = await (await admin.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains($"\r\n{Day(-3)},0,,,,,,,\r\n{Day(-2)},0,,,,,,,\r\n", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_supervisor_sees_every_client_it_serves_with_the_figures_of_its_portal_the_worst_first()
    {
        await ThreeConversationsAsync();
        var supervisor = await App.SignedInAsync("supervisor@prodesk.test");
        var page = System.Net.WebUtility.HtmlDecode(await supervisor.GetStringAsync("/supervisor/sla"));
        var rows = System.Text.RegularExpressions.Regex.Matches(page, "data-testid=\"sla-client\" data-tenant=\"(?<slug>[^\"]+)\">(?<cells>.*?)</tr>", System.Text.RegularExpressions.RegexOptions.Singleline)
            .ToDictionary(m => m.Groups["slug"].Value, m => m.Groups["cells"].Value);
        Assert.Equal(["acme", "merlion", "northwind", "sla-lab"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("<td>1 / 1 / 1</td>", rows["sla-lab"], StringComparison.Ordinal);
        Assert.Contains("<td>50 %</td>", rows["sla-lab"], StringComparison.Ordinal);
        // sla-lab is the only client with a breach in the period: it comes first.
        Assert.Equal("sla-lab", rows.Keys.First());

        // A client's own admin has no such page.
        var client = await App.SignedInAsync("admin@sla-lab.test");
        Assert.NotEqual(HttpStatusCode.OK, (await client.GetAsync("/supervisor/sla")).StatusCode);
    }

    [Fact]
    public async Task The_client_portal_shows_the_last_30_days_by_queue_and_its_csv_links_download()
    {
        await ThreeConversationsAsync();
        var browser = await App.SignedInAsync("viewer@sla-lab.test");
        var page = System.Net.WebUtility.HtmlDecode(await browser.GetStringAsync("/portal"));
        Assert.Contains("data-testid=\"sla-report\"", page, StringComparison.Ordinal);
        Assert.Contains("<td>fast</td>", page, StringComparison.Ordinal);
        Assert.Contains("<td>1 / 1 / 1</td>", page, StringComparison.Ordinal);
        Assert.Contains("<td>50 %</td>", page, StringComparison.Ordinal);
        // The chart's data: one entry per day of the 30, today's with its three items and 50 % first-response compliance.
        var data = JsonDocument.Parse(System.Text.RegularExpressions.Regex.Match(page, "id=\"sla-daily-data\"[^>]*>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value).RootElement;
        Assert.InRange(data.GetProperty("days").GetArrayLength(), 30, 31);
        Assert.Equal(Today, data.GetProperty("days").EnumerateArray().Last().GetString());
        Assert.Equal(3, data.GetProperty("items").EnumerateArray().Last().GetInt32());
        Assert.Equal(50.0, data.GetProperty("firstResponse").EnumerateArray().Last().GetDouble());
        Assert.Equal(JsonValueKind.Null, data.GetProperty("firstResponse")[0].ValueKind);

        var download = await browser.GetAsync("/api/v1/tenants/sla-lab/reports/sla?groupBy=day&format=csv");
        Assert.Equal("text/csv", download.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"{Today},3,firstResponse,1,1,1,0,50,0.5", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Another client's report is not there for this viewer.
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/api/v1/tenants/acme/reports/sla?format=csv")).StatusCode);
    }

    [Fact]
    public async Task A_date_is_the_clients_day_starting_at_its_own_midnight()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret);
        var report = await admin.JsonAsync("/api/v1/tenants/acme/reports/sla?from=2026-11-01&to=2026-12-01");
        // acme is in Paris: its November runs from 23:00 UTC on 31 October to 23:00 UTC on 30 November.
        Assert.Equal("Europe/Paris", report.GetProperty("timeZone").GetString());
        Assert.Equal(new DateTime(2026, 10, 31, 23, 0, 0, DateTimeKind.Utc), report.GetProperty("from").GetDateTime().ToUniversalTime());
        Assert.Equal(new DateTime(2026, 11, 30, 23, 0, 0, DateTimeKind.Utc), report.GetProperty("to").GetDateTime().ToUniversalTime());

        // The file is named by the client's first and last day, not by the UTC instants (31 October) or the excluded end.
        var csv = await admin.GetAsync("/api/v1/tenants/acme/reports/sla?from=2026-11-01&to=2026-12-01&format=csv");
        Assert.Equal("sla-acme-2026-11-01-2026-11-30-by-queue.csv", csv.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }

    [Fact]
    public async Task The_average_time_to_answer_counts_late_answers_too()
    {
        var (_, breached, _) = await ThreeConversationsAsync();
        // The breached one is answered now, 1 min 50 s after it came in: with the other's 30 s, 70 s on average.
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{breached}/replies", new { body = "Sorry for the wait." })).StatusCode);

        var viewer = App.CreateClient().WithBearer((await App.PatAsync("viewer@sla-lab.test")).Secret);
        var first = Target(Assert.Single((await viewer.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={Today}&to={Tomorrow}")).GetProperty("rows").EnumerateArray()), "firstResponse");
        Assert.Equal((1, 1), (first.GetProperty("met").GetInt32(), first.GetProperty("breached").GetInt32()));
        Assert.Equal(1.2, first.GetProperty("averageMinutes").GetDouble());
    }

    [Theory]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("to=yesterday", "to")]
    [InlineData("from=2026-12-05&to=2026-12-01", "to")]
    [InlineData("from=2025-01-01&to=2026-12-01", "to")]
    [InlineData("from=2026-11-30T08:00:00&to=2026-12-01", "from")]
    [InlineData("groupBy=week", "groupBy")]
    [InlineData("format=xlsx", "format")]
    [InlineData("to=0001-01-02", "to")]
    public async Task A_period_or_grouping_that_cannot_be_used_is_refused_naming_the_parameter(string query, string parameter)
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@sla-lab.test")).Secret);
        var response = await admin.GetAsync($"/api/v1/tenants/sla-lab/reports/sla?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal([parameter], errors.EnumerateObject().Select(e => e.Name));
    }
}
