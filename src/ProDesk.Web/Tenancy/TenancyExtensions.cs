using Hangfire;
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
        services.AddSingleton<TenantHubFilter>();

        // The business calendar is the first per-tenant option; the SLA feature computes deadlines with it.
        services.ConfigurePerTenant<TenantCalendarOptions>((options, tenant) => options.Load(tenant));
    }

    public static void UseTenancy(this WebApplication app) => app.UseMiddleware<TenantResolutionMiddleware>();

    /// <summary>
    /// Registers the job filter with Hangfire; called from the jobs wiring. Hangfire's filters are
    /// process-wide, so a host started later in the same process (as tests do) replaces the earlier one's.
    /// </summary>
    internal static void UseTenantJobFilter(this IGlobalConfiguration configuration, IServiceProvider services)
    {
        foreach (var stale in GlobalJobFilters.Filters.Select(f => f.Instance).OfType<TenantJobFilter>().ToList())
        {
            GlobalJobFilters.Filters.Remove(stale);
        }

        configuration.UseFilter(services.GetRequiredService<TenantJobFilter>());
    }
}
