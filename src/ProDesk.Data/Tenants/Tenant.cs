using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Tenants;

/// <summary>
/// A client company. The registry of tenants is provider data, not tenant-owned: it is read
/// (through the cached tenant store) to resolve which tenant a request is for.
/// </summary>
public sealed class Tenant
{
    public Guid Id { get; set; }

    public required string Slug { get; set; }

    public required string Name { get; set; }

    /// <summary>IANA time zone id (e.g. Europe/Paris); deadlines are computed in it.</summary>
    public required string TimeZone { get; set; }

    public TenantStatus Status { get; set; }

    /// <summary>The business calendar as JSON (weekly hours, holidays); parsed by the SLA feature.</summary>
    public required string CalendarJson { get; set; }

    /// <summary>The tenant's custom fields on work items, as a JSON array of definitions (key, label, type, choices, required).</summary>
    public string FieldsJson { get; set; } = "[]";

    /// <summary>The price plan as JSON; rated by the billing feature.</summary>
    public required string PlanJson { get; set; }

    public DateTime CreatedAt { get; set; }

    public List<TenantHost> Hosts { get; set; } = [];
}

/// <summary>A host name that resolves to its tenant (e.g. support.acme.test). Unique across tenants.</summary>
public sealed class TenantHost
{
    public Guid TenantId { get; set; }

    public required string Host { get; set; }
}
