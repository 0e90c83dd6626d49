using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// Stamps new tenant-owned rows with the current tenant and refuses any write that would land
/// in, move into or come from a tenant outside the current scope.
/// </summary>
public sealed class TenantSaveGuard : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context);
        return ValueTask.FromResult(result);
    }

    /// <summary>
    /// Also run by <see cref="InsertOnlySave"/>, which writes without SaveChanges. Detects the changes first (a row
    /// added only by a navigation is found then); true when it stamped a new row with the tenant, which the keys
    /// naming that row take up only by detecting the changes again.
    /// </summary>
    internal static bool Check(DbContext? context)
    {
        if (context is not ProDeskDbContext db)
        {
            return false;
        }

        var stamped = false;
        var allowed = db.TenantScopeIds;
        foreach (var entry in db.ChangeTracker.Entries<ITenantOwned>())
        {
            var name = entry.Metadata.ClrType.Name;
            switch (entry.State)
            {
                case EntityState.Added:
                    if (entry.Entity.TenantId == Guid.Empty)
                    {
                        stamped = true;
                        entry.Entity.TenantId = allowed.Count == 1
                            ? allowed[0]
                            : throw new CrossTenantWriteException(
                                $"A new {name} has no TenantId and the current scope spans {allowed.Count} tenants: set it explicitly.");
                    }

                    Require(allowed, entry.Entity.TenantId, name, "insert");
                    break;
                case EntityState.Modified:
                    var original = entry.Property(e => e.TenantId).OriginalValue;
                    if (original != entry.Entity.TenantId)
                    {
                        throw new CrossTenantWriteException($"A {name} may not move to another tenant.");
                    }

                    Require(allowed, original, name, "update");
                    break;
                case EntityState.Deleted:
                    Require(allowed, entry.Property(e => e.TenantId).OriginalValue, name, "delete");
                    break;
                case EntityState.Detached:
                case EntityState.Unchanged:
                default:
                    break;
            }
        }

        return stamped;
    }

    private static void Require(IReadOnlyList<Guid> allowed, Guid tenantId, string name, string verb)
    {
        if (!allowed.Contains(tenantId))
        {
            throw new CrossTenantWriteException($"Refused to {verb} a {name} of tenant {tenantId}: it is outside the current tenant scope.");
        }
    }
}
