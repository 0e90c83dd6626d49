using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Data;
using ProDesk.Domain.Channels.Email;
using ProDesk.Data.Channels;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels;

/// <summary>
/// Each tenant's channel settings, kept per node for <see cref="Lifetime"/>. Every inbound request of
/// every channel checks its key against them (and the chat hub every poll and call), and only seeding and
/// rotation (TenantKeys) write them, so a node reads them once per tenant per lifetime instead of spending a pooled
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

    /// <summary>Drops this node's copy of the tenant's settings: a rotated key counts here at once, on other nodes within <see cref="Lifetime"/>.</summary>
    public void Forget(TenantInfo tenant) => cache.Remove($"channel-settings:{tenant.Id}");

    /// <summary>
    /// Whether <paramref name="email"/> is a desk's own support address, any tenant's, +tagged reply addresses included.
    /// A web form or chat visitor typing one would make the desk mail itself, or another client's desk, which takes
    /// the answer in as a new conversation of its own.
    /// </summary>
    public async Task<bool> IsDeskAddressAsync(string email, CancellationToken cancellationToken)
    {
        if (UntaggedAddress.Of(email) is not { } typed)
        {
            return false;
        }

        var desks = await cache.GetOrCreateAsync("channel-settings:desk-addresses", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Lifetime;
            return await LoadDeskAddressesAsync(cancellationToken);
        });
        return desks!.Contains($"{typed.Local}@{typed.Domain}");
    }

    private async Task<HashSet<string>> LoadDeskAddressesAsync(CancellationToken cancellationToken)
    {
        using (TenantScopes.Enter(await scopes.ForSystemAsync("desk addresses", cancellationToken)))
        {
            await using var scope = services.CreateAsyncScope();
            var addresses = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().ChannelSettings.AsNoTracking()
                .Where(c => c.SupportAddress != null).Select(c => c.SupportAddress!).ToListAsync(cancellationToken);
            return addresses.Select(UntaggedAddress.Of).OfType<(string Local, string Domain)>()
                .Select(a => $"{a.Local}@{a.Domain}").ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
    }

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
