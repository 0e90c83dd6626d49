using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Web.Sla;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Health;

/// <summary>GET /metrics: Prometheus text with request rates, queue depth per tenant and SLA breaches, for the provider only.</summary>
public sealed class MetricsTests(SlaApp app) : SlaTest(app)
{
    private async Task<HttpClient> AdminAsync() => App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);

    /// <summary>One sample's value, or 0 when the series is absent (a counter nothing has added to yet).</summary>
    private static double Sample(string text, string metric, string labels)
    {
        var match = Regex.Match(text, $@"^{Regex.Escape(metric)}\{{[^}}]*{labels}[^}}]*\}} (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public async Task Queue_depth_per_tenant_and_sla_breaches_show_up_in_prometheus_text()
    {
        var admin = await AdminAsync();
        var before = await admin.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.StartsWith("text/plain", before.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var first = await before.Content.ReadAsStringAsync();
        var depthBefore = Sample(first, "prodesk_queue_depth", "queue=\"fast\",tenant=\"sla-lab\"");
        var breachesBefore = Sample(first, "prodesk_sla_breaches_total", "tenant=\"sla-lab\"");

        var integration = await App.IntegrationClientAsync("sla-lab");
        await integration.CreateConversationAsync("sla-lab", "metrics-1");
        await integration.CreateConversationAsync("sla-lab", "metrics-2");
        App.Clock.Advance(TimeSpan.FromMinutes(2)); // past the fast lane's one-minute first response
        while (await App.Services.GetRequiredService<SlaSweeper>().SweepOnceAsync(CancellationToken.None) > 0)
        {
        }

        var text = await admin.GetStringAsync("/metrics");
        Assert.Equal(depthBefore + 2, Sample(text, "prodesk_queue_depth", "queue=\"fast\",tenant=\"sla-lab\""));
        Assert.Equal(breachesBefore + 2, Sample(text, "prodesk_sla_breaches_total", "tenant=\"sla-lab\""));
        Assert.True(Sample(text, "prodesk_queue_oldest_open_seconds", "queue=\"fast\",tenant=\"sla-lab\"") >= 120);
        // Request rates come from ASP.NET Core's own meter, per route.
        Assert.Matches("(?m)^http_server_request_duration_seconds_count\\{[^}]*http_route=\"/api/v1/tenants/\\{tenant\\}/conversations\"", text);
    }

    [Fact]
    public async Task A_scrape_is_a_get_and_other_methods_are_not_allowed()
    {
        var admin = await AdminAsync();

        var posted = await admin.PostAsync("/metrics", new StringContent(""));
        var deleted = await admin.DeleteAsync("/metrics");

        Assert.All([posted, deleted], r => Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode));
        Assert.Contains("GET", posted.Content.Headers.Allow);
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/metrics"))).StatusCode);
    }

    [Fact]
    public async Task Only_the_provider_or_a_scraper_on_the_machine_itself_reads_the_metrics()
    {
        // Through a proxy (or from anywhere but loopback) an anonymous scraper is refused, as is a member of staff
        // who is not a provider admin: the figures name every tenant.
        var anonymous = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        anonymous.Headers.Add("X-Forwarded-For", "203.0.113.9");
        var refused = await App.CreateClient().SendAsync(anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain("sla-lab", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A proxy that writes another header than X-Forwarded-For is a proxy too.
        foreach (var (header, value) in new[] { ("X-Real-IP", "203.0.113.9"), ("Via", "1.1 edge"), ("CF-Connecting-IP", "203.0.113.9") })
        {
            var proxied = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            proxied.Headers.Add(header, value);
            Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().SendAsync(proxied)).StatusCode);
        }

        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var agentRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        agentRequest.Headers.Add("X-Forwarded-For", "203.0.113.9");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.SendAsync(agentRequest)).StatusCode);

        var adminRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        adminRequest.Headers.Add("X-Forwarded-For", "203.0.113.9");
        Assert.Equal(HttpStatusCode.OK, (await (await AdminAsync()).SendAsync(adminRequest)).StatusCode);
    }
}
