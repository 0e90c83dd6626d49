using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels;

/// <summary>
/// Each tenant's channel settings, kept per node for <see cref="Lifetime"/>. Every inbound request of
/// every channel checks its key against them (and the chat hub every poll and call), and only seeding
/// writes them, so a node reads them once per tenant per lifetime instead of spending a pooled
/// connection (reset, tenant scope, query) on every request; a key changed in the database takes
/// effect on every node within that time. Read on a connection of its own, opened and closed here, so
/// a caller never holds one connection while waiting for another.
/// </summary>
public sealed class ChannelSettingsCache(TenantScopes scopes, IServiceScopeFactory services, IMemoryCache cache)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    /// <summary>The tenant's settings; null when it has none.</summary>
    public async Task<ChannelSettings?> GetAsync(TenantInfo tenant, CancellationToken cancellationToken) =>
        await cache.GetOrCreateAsync($"channel-settings:{tenant.Id}", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Lifetime;
            return await LoadAsync(tenant, cancellationToken);
        });

    private async Task<ChannelSettings?> LoadAsync(TenantInfo tenant, CancellationToken cancellationToken)
    {
        // Entered here, in the method that awaits the query: the scope is async-local.
        using (TenantScopes.Enter(scopes.ForTenant(tenant)))
        {
            await using var scope = services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().ChannelSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        }
    }
}
