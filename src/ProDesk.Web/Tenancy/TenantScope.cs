namespace ProDesk.Web.Tenancy;

/// <summary>
/// The tenants a piece of work may touch, and why. One tenant for a request on a tenant route,
/// a client user, an integration client or a job; several for an agent's queue; all of them
/// only for a named system job. Created only through <see cref="TenantScopes"/>.
/// </summary>
public sealed class TenantScope
{
    internal TenantScope(IReadOnlyList<TenantInfo> tenants, string reason)
    {
        Tenants = tenants;
        Reason = reason;
        TenantIds = tenants.Select(t => t.Id).ToArray();
    }

    public static TenantScope None { get; } = new([], "none");

    public IReadOnlyList<TenantInfo> Tenants { get; }

    public IReadOnlyList<Guid> TenantIds { get; }

    public string Reason { get; }

    /// <summary>The one tenant acted in, or null when the scope spans none or several.</summary>
    public TenantInfo? Current => Tenants.Count == 1 ? Tenants[0] : null;
}
