using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Identity;

/// <summary>Provider staff and the tenants each serves: read and changed by the admin page and the staff API alike.</summary>
public sealed class StaffDirectory(ProDeskDbContext db, ITenantStore tenants, AuditLog audit, IServiceScopeFactory scopes, TimeProvider clock, ServerSideSessions sessions)
{
    /// <param name="AllTenants">Serves every client, present and future (<see cref="AppUser.ServesAllTenants"/>).</param>
    public sealed record Member(Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Tenants, bool AllTenants);

    public async Task<List<Member>> ListAsync(CancellationToken cancellationToken = default)
    {
        var slugs = (await tenants.ListAsync(cancellationToken)).ToDictionary(t => t.Id, t => t.Slug);
        var staff = await db.Users.Where(u => u.TenantId == null).OrderBy(u => u.Email).ToListAsync(cancellationToken);
        var roles = await db.UserRoles.Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var served = await db.StaffTenants.ToListAsync(cancellationToken);
        return staff.Select(u => new Member(
            u.Id,
            u.Email!,
            u.DisplayName,
            roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order(StringComparer.Ordinal).ToList(),
            served.Where(s => s.UserId == u.Id && slugs.ContainsKey(s.TenantId)).Select(s => slugs[s.TenantId]).Order(StringComparer.Ordinal).ToList(),
            u.ServesAllTenants)).ToList();
    }

    /// <summary>A member of staff (not a client user), or null.</summary>
    public Task<AppUser?> FindAsync(Guid id, CancellationToken cancellationToken = default) =>
        db.Users.SingleOrDefaultAsync(u => u.Id == id && u.TenantId == null, cancellationToken);

    /// <summary>
    /// Replaces the tenants served, without signing the member out anywhere: an assignment is no credential change, and
    /// a new security stamp had ended the agent's console and every OAuth token mid-shift for a client added (probe round
    /// 20). The change reaches everything at once instead: browser sessions have their tickets rewritten in the same
    /// transaction, personal access tokens rebuild their claims under the new concurrency stamp, OAuth access tokens read
    /// the tenants served on every request (<see cref="CurrentUserAccessTokens"/>) and refresh tokens are issued with
    /// them, and hub connections whose tenants changed are closed so the console reconnects as the member is now.
    /// The periodic stamp check (Identity:SessionRecheckSeconds) still rebuilds every session from the database.
    /// </summary>
    /// <param name="allTenants">Every tenant, and every client onboarded later (<paramref name="served"/> is then every tenant now).</param>
    public async Task AssignAsync(AppUser member, IReadOnlyList<TenantInfo> served, ClaimsPrincipal actor, bool allTenants = false, CancellationToken cancellationToken = default)
    {
        var before = await db.StaffTenants.Where(s => s.UserId == member.Id).ToListAsync(cancellationToken);
        var wasAll = member.ServesAllTenants;
        member.ServesAllTenants = allTenants;
        if (before.Select(s => s.TenantId).ToHashSet().SetEquals(served.Select(t => t.Id)))
        {
            if (wasAll != allTenants)
            {
                // The same tenants today; only who gets the next client changes, which no session needs to hear.
                await db.SaveChangesAsync(cancellationToken);
                await audit.RecordAsync(AuditLog.TenantsAssigned, actor, member.Email, details: allTenants ? "*" : string.Join(',', served.Select(t => t.Slug).Distinct().Order(StringComparer.Ordinal)), cancellationToken: cancellationToken);
            }

            // The tenants served already: nothing changes, so nothing is written or re-checked.
            return;
        }

        db.StaffTenants.RemoveRange(before);
        db.StaffTenants.AddRange(served.DistinctBy(t => t.Id).Select(t => new StaffTenant { UserId = member.Id, TenantId = t.Id }));
        // The concurrency stamp keys the personal access tokens' claims (decision 12); the security stamp stays, so nobody is signed out.
        member.ConcurrencyStamp = Guid.NewGuid().ToString();
        await sessions.RetenantAsync(db, member.Id, served.Select(t => t.Id).Distinct().ToList(), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditLog.TenantsAssigned, actor, member.Email, details: allTenants ? "*" : string.Join(',', served.Select(t => t.Slug).Distinct().Order(StringComparer.Ordinal)), cancellationToken: cancellationToken);

        var kept = served.Select(t => t.Id).ToHashSet();
        foreach (var removed in before.Where(s => !kept.Contains(s.TenantId)))
        {
            if (await tenants.FindByIdAsync(removed.TenantId, cancellationToken) is { } tenant)
            {
                await ReleaseItemsAsync(member.Id, tenant, actor, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A member of staff no longer serving a tenant cannot even see the items assigned to them there: they go back to
    /// the queue (unassigned, in the trail, announced), or nobody could pick them up, as claim-next hands out only unassigned work.
    /// </summary>
    private async Task ReleaseItemsAsync(Guid memberId, TenantInfo tenant, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        using var inTenant = TenantScopes.Enter(scope.ServiceProvider.GetRequiredService<TenantScopes>().ForTenant(tenant));
        var tenantDb = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var actorId = Guid.TryParse(actor.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : (Guid?)null;
        var actorName = actor.FindFirstValue(ProDeskClaims.Email) ?? actor.FindFirstValue(ProDeskClaims.Subject);
        var items = await tenantDb.WorkItems.Where(w => w.AssigneeId == memberId && w.Status != WorkItemStatus.Closed).ToListAsync(cancellationToken);
        foreach (var item in items)
        {
            WorkItemTrail.Changed(tenantDb, item.Id, item.TenantId, now, actorId, actorName, "assignee", memberId.ToString(), null);
            item.AssigneeId = null;
            WorkItemTrail.Updated(tenantDb, item, now);
        }

        if (items.Count > 0)
        {
            // An agent saving one of them at this moment wins; the admin can take the tenant away again for the rest.
            await tenantDb.SaveChangesAsync(cancellationToken);
            scope.ServiceProvider.GetRequiredService<OutboxRelay>().Wake();
        }
    }
}
