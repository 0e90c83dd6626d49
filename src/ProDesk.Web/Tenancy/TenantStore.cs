using Microsoft.EntityFrameworkCore;
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
/// immutable snapshot and reloaded after <see cref="SnapshotLifetime"/> or an invalidation. An expired
/// snapshot keeps answering while one background load replaces it: a request that already holds a
/// pooled connection (ingestion keeps one for its transaction) must never wait for a second one to
/// reload the registry, or a full pool waits on itself until its timeout. Only the first load, and the
/// first after an invalidation on this node, is waited for.
/// </summary>
internal sealed class TenantStore(IServiceScopeFactory scopes) : ITenantStore, IDisposable
{
    public static readonly TimeSpan SnapshotLifetime = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _loading = new(1, 1);

    /// <summary>The last snapshot loaded, fresh until <see cref="Snapshot.FreshUntil"/>; null before the first load and after an invalidation.</summary>
    private volatile Snapshot? _last;
    private int _generation;
    private int _refreshing;

    public async ValueTask<TenantInfo?> FindBySlugAsync(string slug, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).BySlug.GetValueOrDefault(slug);

    public async ValueTask<TenantInfo?> FindByHostAsync(string host, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).ByHost.GetValueOrDefault(host);

    public async ValueTask<TenantInfo?> FindByIdAsync(Guid id, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).ById.GetValueOrDefault(id);

    public async ValueTask<IReadOnlyList<TenantInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).All;

    public void Invalidate()
    {
        // A load that began before the change may have read the old rows: its result is dropped.
        Interlocked.Increment(ref _generation);
        _last = null;
    }

    public void Dispose() => _loading.Dispose();

    private async ValueTask<Snapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        if (_last is { } last)
        {
            if (!last.IsFresh && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
            {
                _ = Task.Run(RefreshInBackgroundAsync, CancellationToken.None);
            }

            return last;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            return _last ?? await LoadAsync(cancellationToken);
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            await LoadAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The stale snapshot keeps answering; the next request past its lifetime tries again.
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var rows = await db.Tenants.AsNoTracking().Include(t => t.Hosts).OrderBy(t => t.Slug).ToListAsync(cancellationToken);
        var snapshot = new Snapshot(rows
            .Select(t => new TenantInfo(t.Id, t.Slug, t.Name, t.TimeZone, t.Status, t.Hosts.Select(h => h.Host).Order(StringComparer.Ordinal).ToArray(), t.CalendarJson, t.FieldsJson))
            .ToArray());
        if (Volatile.Read(ref _generation) == generation)
        {
            _last = snapshot;
        }

        return snapshot;
    }

    private sealed class Snapshot(IReadOnlyList<TenantInfo> all)
    {
        public long FreshUntil { get; } = Environment.TickCount64 + (long)SnapshotLifetime.TotalMilliseconds;

        public bool IsFresh => Environment.TickCount64 < FreshUntil;

        public IReadOnlyList<TenantInfo> All { get; } = all;

        public Dictionary<string, TenantInfo> BySlug { get; } = all.ToDictionary(t => t.Slug, StringComparer.Ordinal);

        public Dictionary<string, TenantInfo> ByHost { get; } = all.SelectMany(t => t.Hosts.Select(h => (h, t))).ToDictionary(x => x.h, x => x.t, StringComparer.OrdinalIgnoreCase);

        public Dictionary<Guid, TenantInfo> ById { get; } = all.ToDictionary(t => t.Id);
    }
}
