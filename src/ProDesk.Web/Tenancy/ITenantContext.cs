using ProDesk.Data.Tenancy;

namespace ProDesk.Web.Tenancy;

/// <summary>
/// The tenant (or tenants) the current request, hub invocation or job acts in. Backed by an
/// async-local scope, so it flows from the resolution middleware, the hub filter and the
/// Hangfire server filter into everything they call, and is gone when they return.
/// </summary>
public interface ITenantContext
{
    /// <summary>The single tenant acted in; null when none or several are in scope.</summary>
    TenantInfo? Current { get; }

    TenantScope Scope { get; }
}

internal sealed class TenantContext : ITenantContext, ICurrentTenantIds
{
    private static readonly AsyncLocal<TenantScope?> Ambient = new();

    public TenantInfo? Current => Scope.Current;

    public TenantScope Scope => Ambient.Value ?? TenantScope.None;

    public IReadOnlyList<Guid> TenantIds => Scope.TenantIds;

    /// <summary>Only <see cref="TenantScopes"/> enters a scope.</summary>
    internal static TenantScope? Swap(TenantScope? scope)
    {
        var previous = Ambient.Value;
        Ambient.Value = scope;
        return previous;
    }
}
