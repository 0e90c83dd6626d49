using Microsoft.EntityFrameworkCore;
using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// Hot statements that run inside exactly one tenant's scope (ingestion) select that tenant by equality
/// instead of the scope filter's <c>"TenantId" = ANY(@scope)</c>: with the array PostgreSQL judged its
/// cached generic plan worse than a fresh one and planned the statement on every call; with equality it
/// plans it once per connection (ARCHITECTURE.md decision 39). Row-level security still applies underneath.
/// </summary>
public static class OneTenantQueries
{
    /// <summary>
    /// <paramref name="tenantId"/>'s rows, for the whole query: subqueries in it lose the scope filter too and
    /// must name the tenant themselves.
    /// </summary>
    public static IQueryable<T> OfTenant<T>(this DbSet<T> rows, Guid tenantId)
        where T : class, ITenantOwned =>
        rows.IgnoreQueryFilters([ProDeskDbContext.TenantFilter]).Where(r => r.TenantId == tenantId);
}
