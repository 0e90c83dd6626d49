using ProDesk.Domain.Tenancy;

namespace ProDesk.Web.Tenancy;

/// <summary>What the host knows about a tenant without a query: served from the cached tenant store.</summary>
public sealed record TenantInfo(
    Guid Id,
    string Slug,
    string Name,
    string TimeZone,
    TenantStatus Status,
    IReadOnlyList<string> Hosts,
    string CalendarJson,
    string FieldsJson = "[]");
