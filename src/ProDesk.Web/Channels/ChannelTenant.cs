using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Domain.Tenancy;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels;

/// <summary>
/// Channel routes are called by machines and the public, not by signed-in users: they name their
/// tenant in the route and prove it with a channel key. An unknown tenant and a wrong key get the
/// same answer, so the routes never tell whether a tenant exists. Use:
/// <code>
/// var tenant = await ChannelTenant.FindAsync(context, slug);
/// using var scope = ChannelTenant.Enter(context, tenant);   // synchronous: the scope is the caller's
/// var settings = await ChannelTenant.SettingsAsync(context, tenant);
/// </code>
/// </summary>
public static class ChannelTenant
{
    /// <summary>The active tenant named by the route, or null.</summary>
    public static async Task<TenantInfo?> FindAsync(HttpContext context, string slug)
    {
        var tenant = await context.RequestServices.GetRequiredService<ITenantStore>().FindBySlugAsync(slug, context.RequestAborted);
        return tenant is { Status: TenantStatus.Active } ? tenant : null;
    }

    /// <summary>Enters the tenant's scope for the rest of the caller's request (nothing when there is no tenant).</summary>
    public static IDisposable Enter(HttpContext context, TenantInfo? tenant) =>
        tenant is null ? NoScope.Instance : TenantScopes.Enter(context.RequestServices.GetRequiredService<TenantScopes>().ForTenant(tenant));

    /// <summary>How long a node answers channel requests from the settings it read: a key changed in the database takes effect within this.</summary>
    public static readonly TimeSpan SettingsLifetime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The tenant's channel settings, read inside its scope; null without a tenant. Every inbound
    /// request of every channel checks its key against them, and they change only when a tenant is
    /// seeded, so each node keeps them for <see cref="SettingsLifetime"/> instead of spending a pooled
    /// connection (reset, tenant scope, query) on every request.
    /// </summary>
    public static async Task<ChannelSettings?> SettingsAsync(HttpContext context, TenantInfo? tenant)
    {
        if (tenant is null)
        {
            return null;
        }

        var cache = context.RequestServices.GetRequiredService<IMemoryCache>();
        var key = $"channel-settings:{tenant.Id}";
        if (cache.TryGetValue(key, out ChannelSettings? cached) && cached is not null)
        {
            return cached;
        }

        var settings = await context.RequestServices.GetRequiredService<ProDeskDbContext>().ChannelSettings.AsNoTracking().FirstOrDefaultAsync(context.RequestAborted);
        if (settings is not null)
        {
            cache.Set(key, settings, SettingsLifetime);
        }

        return settings;
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
