using Hangfire;
using Hangfire.Common;
using ProDesk.Data.Tenancy;
using ProDesk.Web.Sla;

namespace ProDesk.Web.Tenancy;

public static class TenancyExtensions
{
    public static void AddTenancy(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMemoryCache();
        services.AddSingleton<TenantContext>();
        services.AddSingleton<ITenantContext>(sp => sp.GetRequiredService<TenantContext>());
        services.AddSingleton<ICurrentTenantIds>(sp => sp.GetRequiredService<TenantContext>());
        services.AddSingleton<ITenantStore, TenantStore>();
        services.AddSingleton<TenantScopes>();
        services.AddSingleton<TenantAccess>();
        services.AddSingleton<TenantJobFilter>();
        services.AddSingleton<IJobFilterProvider, HostJobFilters>();
        services.AddSingleton<TenantHubFilter>();

        // The business calendar is the first per-tenant option; the SLA feature computes deadlines with it.
        services.ConfigurePerTenant<TenantCalendarOptions>((options, tenant) => options.Load(tenant));
    }

    public static void UseTenancy(this WebApplication app) => app.UseMiddleware<TenantResolutionMiddleware>();

    /// <summary>
    /// This host's job filters: Hangfire's global ones plus the tenant filter. Registered in DI rather
    /// than in Hangfire's process-wide GlobalJobFilters, so the filter always belongs to this host. The failure
    /// counter of /metrics rides along for the same reason.
    /// </summary>
    private sealed class HostJobFilters(TenantJobFilter tenantFilter, Metrics.MetricsExtensions.JobFailureMetrics failures) : IJobFilterProvider
    {
        private readonly JobFilter _tenant = new(tenantFilter, JobFilterScope.Global, order: null);
        private readonly JobFilter _failures = new(failures, JobFilterScope.Global, order: null);

        public IEnumerable<JobFilter> GetFilters(Hangfire.Common.Job job) => JobFilterProviders.Providers.GetFilters(job).Append(_tenant).Append(_failures);
    }
}
