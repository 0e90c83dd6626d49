using System.Net;
using Hangfire.States;
using OpenTelemetry.Metrics;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Metrics;

public static class MetricsExtensions
{
    private const string Path = "/metrics";

    private const string ScrapePolicy = "MetricsScrape";

    /// <summary>
    /// OpenTelemetry metrics with the Prometheus exporter: ASP.NET Core's and Kestrel's own meters (request rates
    /// and durations per route, connections) and the desk's (<see cref="ProDeskMetrics"/>).
    /// </summary>
    public static void AddMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ProDeskMetrics>();
        builder.Services.AddSingleton<JobFailureMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", ProDeskMetrics.MeterName)
            // Every scrape reads the queues afresh; a cached answer would serve the figures of the scrape before.
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        builder.Services.AddAuthorizationBuilder().AddPolicy(ScrapePolicy, policy => policy.RequireAssertion(context =>
            context.User.IsInRole(Roles.ProviderAdmin) || (context.Resource is HttpContext http && FromThisMachine(http))));
    }

    /// <summary>
    /// GET /metrics in Prometheus text format. The figures name every tenant, so only a scraper on this machine (a
    /// node's local agent, not through a proxy) or a provider admin's token reads them; anyone else gets 401 or 404.
    /// </summary>
    public static void MapMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                var metrics = context.RequestServices.GetRequiredService<ProDeskMetrics>();
                try
                {
                    await metrics.RefreshQueuesAsync(context.RequestServices, context.RequestAborted);
                    await next(context);
                }
                finally
                {
                    metrics.ForgetQueues();
                }
            }), optionsName: null)
            .RequireAuthorization(ScrapePolicy)
            // The exporter maps every method; a scrape is a GET, anything else is 405 with Allow (HEAD is routed as GET).
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]))
            .WithName("Metrics").WithMetadata(new NoTenantAttribute()).DisableHttpMetrics();

    /// <summary>
    /// A loopback connection that no proxy forwarded (a proxy on the same host would make everyone local): any header a
    /// proxy or CDN writes about the client or the hop marks the request as forwarded. A same-host proxy that writes none
    /// still makes everyone local, which is why <c>Metrics:AllowLoopback</c> turns this off (README).
    /// </summary>
    private static bool FromThisMachine(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        && context.RequestServices.GetRequiredService<IConfiguration>().GetValue("Metrics:AllowLoopback", true)
        && !ProxyHeaders.Any(context.Request.Headers.ContainsKey);

    private static readonly string[] ProxyHeaders =
    [
        "X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto", "Via", "X-Client-IP",
        "True-Client-IP", "CF-Connecting-IP", "X-Original-For", "X-Cluster-Client-IP", "Fastly-Client-IP",
    ];

    /// <summary>Counts each failed attempt of a Hangfire job (before any retry is scheduled), by the job's method.</summary>
    public sealed class JobFailureMetrics(ProDeskMetrics metrics) : IElectStateFilter
    {
        public void OnStateElection(ElectStateContext context)
        {
            if (context.CandidateState is FailedState && context.BackgroundJob.Job is { } job)
            {
                metrics.JobFailed($"{job.Type.Name}.{job.Method.Name}");
            }
        }
    }
}
