using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Data;

namespace ProDesk.Web.Tenancy;

/// <summary>Finds tenants by slug, host or id, from a cached snapshot of the tenant registry.</summary>
public interface ITenantStore
{
    ValueTask<TenantInfo?> FindBySlugAsync(string slug, CancellationToken cancellationToken = default);

    ValueTask<TenantInfo?> FindByHostAsync(string host, CancellationToken cancellationToken = default);

    ValueTask<TenantInfo?> FindByIdAsync(Guid id, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<TenantInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Drops the snapshot on this node after a tenant changed here; other nodes refresh within <see cref="TenantStore.SnapshotLifetime"/>.</summary>
    void Invalidate();
}

/// <summary>
/// The registry is small (hundreds of tenants) and read on every request, so it is held as one
/// immutable snapshot and reloaded after <see cref="SnapshotLifetime"/> or an invalidation.
/// </summary>
internal sealed class TenantStore(IServiceScopeFactory scopes, IMemoryCache cache) : ITenantStore, IDisposable
{
    public static readonly TimeSpan SnapshotLifetime = TimeSpan.FromSeconds(30);

    private const string CacheKey = "tenancy:tenant-snapshot";
    private readonly SemaphoreSlim _loading = new(1, 1);

    public async ValueTask<TenantInfo?> FindBySlugAsync(string slug, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).BySlug.GetValueOrDefault(slug);

    public async ValueTask<TenantInfo?> FindByHostAsync(string host, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).ByHost.GetValueOrDefault(host);

    public async ValueTask<TenantInfo?> FindByIdAsync(Guid id, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).ById.GetValueOrDefault(id);

    public async ValueTask<IReadOnlyList<TenantInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).All;

    public void Invalidate() => cache.Remove(CacheKey);

    public void Dispose() => _loading.Dispose();

    private async ValueTask<Snapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(CacheKey, out Snapshot? snapshot) && snapshot is not null)
        {
            return snapshot;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (cache.TryGetValue(CacheKey, out snapshot) && snapshot is not null)
            {
                return snapshot;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
            var rows = await db.Tenants.AsNoTracking().Include(t => t.Hosts).OrderBy(t => t.Slug).ToListAsync(cancellationToken);
            snapshot = new Snapshot(rows
                .Select(t => new TenantInfo(t.Id, t.Slug, t.Name, t.TimeZone, t.Status, t.Hosts.Select(h => h.Host).Order(StringComparer.Ordinal).ToArray(), t.CalendarJson, t.FieldsJson))
                .ToArray());
            cache.Set(CacheKey, snapshot, SnapshotLifetime);
            return snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    private sealed class Snapshot(IReadOnlyList<TenantInfo> all)
    {
        public IReadOnlyList<TenantInfo> All { get; } = all;

        public Dictionary<string, TenantInfo> BySlug { get; } = all.ToDictionary(t => t.Slug, StringComparer.Ordinal);

        public Dictionary<string, TenantInfo> ByHost { get; } = all.SelectMany(t => t.Hosts.Select(h => (h, t))).ToDictionary(x => x.h, x => x.t, StringComparer.OrdinalIgnoreCase);

        public Dictionary<Guid, TenantInfo> ById { get; } = all.ToDictionary(t => t.Id);
    }
}
