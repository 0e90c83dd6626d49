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
    /// <summary>
    /// The active tenant named by the route, or null. Slugs are lower-case; a webhook URL pasted into a gateway as
    /// <c>/channels/sms/ACME/...</c> still names the tenant (its signature covers the URL as called).
    /// </summary>
    public static async Task<TenantInfo?> FindAsync(HttpContext context, string slug)
    {
        var tenant = await context.RequestServices.GetRequiredService<ITenantStore>().FindBySlugAsync(slug.ToLowerInvariant(), context.RequestAborted);
        return tenant is { Status: TenantStatus.Active } ? tenant : null;
    }

    /// <summary>Enters the tenant's scope for the rest of the caller's request (nothing when there is no tenant).</summary>
    public static IDisposable Enter(HttpContext context, TenantInfo? tenant) =>
        tenant is null ? NoScope.Instance : TenantScopes.Enter(context.RequestServices.GetRequiredService<TenantScopes>().ForTenant(tenant));

    /// <summary>The tenant's channel settings (<see cref="ChannelSettingsCache"/>); null without a tenant.</summary>
    public static async Task<ChannelSettings?> SettingsAsync(HttpContext context, TenantInfo? tenant) =>
        tenant is null ? null : await context.RequestServices.GetRequiredService<ChannelSettingsCache>().GetAsync(tenant, context.RequestAborted);

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
