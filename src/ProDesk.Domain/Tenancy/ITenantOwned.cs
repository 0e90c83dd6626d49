namespace ProDesk.Domain.Tenancy;

/// <summary>
/// A row that belongs to exactly one client company. Every such entity is confined by the tenant
/// query filter, stamped and checked on save, and (on PostgreSQL) guarded by row-level security.
/// </summary>
public interface ITenantOwned
{
    Guid TenantId { get; set; }
}
