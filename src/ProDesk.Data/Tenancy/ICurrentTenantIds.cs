namespace ProDesk.Data.Tenancy;

/// <summary>
/// The tenants the current unit of work may touch: read by the query filter, the save guard and
/// the PostgreSQL row-level-security interceptor. Empty means none, so an unscoped call sees nothing.
/// Implemented by the host's tenant context (ProDesk.Web/Tenancy).
/// </summary>
public interface ICurrentTenantIds
{
    IReadOnlyList<Guid> TenantIds { get; }
}

/// <summary>No tenant at all: design-time tools and schema work.</summary>
public sealed class NoTenants : ICurrentTenantIds
{
    public static readonly NoTenants Instance = new();

    public IReadOnlyList<Guid> TenantIds => [];
}
