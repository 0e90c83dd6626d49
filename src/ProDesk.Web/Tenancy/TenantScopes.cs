namespace ProDesk.Web.Tenancy;

/// <summary>
/// The one audited way in and out of a tenant scope. Narrow scopes (one tenant) are what every
/// request and job uses; wide scopes name their reason and are logged, so a path that spans
/// tenants is visible in review and in the logs. There is no other bypass.
/// </summary>
public sealed partial class TenantScopes(ITenantStore store, ILogger<TenantScopes> logger)
{
    public TenantScope ForTenant(TenantInfo tenant) => new([tenant], tenant.Slug);

    /// <summary>Several named tenants, e.g. the ones an agent serves for the cross-tenant queue.</summary>
    public TenantScope ForTenants(IEnumerable<TenantInfo> tenants, string reason)
    {
        var scope = new TenantScope(tenants.DistinctBy(t => t.Id).ToArray(), reason);
        if (scope.Tenants.Count > 1)
        {
            // Every request of an agent serving several tenants comes here: kept at Debug.
            LogServed(logger, reason, scope.Tenants.Count);
        }

        return scope;
    }

    /// <summary>Every tenant, for a named system job (e.g. "sla-sweeper", "billing-run", "seed").</summary>
    public async Task<TenantScope> ForSystemAsync(string reason, CancellationToken cancellationToken = default)
    {
        var all = await store.ListAsync(cancellationToken);
        LogWide(logger, reason, all.Count);
        return new TenantScope(all, reason);
    }

    /// <summary>
    /// Makes <paramref name="scope"/> current until the returned handle is disposed. Synchronous on
    /// purpose: the async-local change must be made in the caller's own execution context.
    /// </summary>
    public static IDisposable Enter(TenantScope scope) => new Restore(TenantContext.Swap(scope));

    // Debug: background loops (the outbox relay polls four times a second) enter system scopes constantly;
    // the reason is named in the code at every call, and this line shows them when tracing.
    [LoggerMessage(LogLevel.Debug, "Tenant scope widened to {Count} tenants for {Reason}")]
    private static partial void LogWide(ILogger logger, string reason, int count);

    [LoggerMessage(LogLevel.Debug, "Tenant scope of {Count} named tenants for {Reason}")]
    private static partial void LogServed(ILogger logger, string reason, int count);

    private sealed class Restore(TenantScope? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                TenantContext.Swap(previous);
            }
        }
    }
}
