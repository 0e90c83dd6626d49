using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity;

/// <summary>Provider admins manage staff and which client companies each member serves.</summary>
public static class StaffApi
{
    public sealed record StaffMember(Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Tenants);

    public sealed record AssignTenantsRequest(IReadOnlyList<string>? Tenants);

    public static RouteGroupBuilder MapStaffApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/admin/staff").RequireAuthorization(p => p.RequireRole(Roles.ProviderAdmin)).WithTags("Staff");
        api.MapGet("/", ListAsync).WithName("ListStaff").WithSummary("Provider staff with their roles and the tenants they serve.");
        api.MapPut("/{id:guid}/tenants", AssignAsync).WithName("AssignStaffTenants").WithSummary("Replaces the tenants a member of staff serves (slugs).");
        return api;
    }

    private static async Task<Ok<List<StaffMember>>> ListAsync(ProDeskDbContext db, ITenantStore tenants, CancellationToken cancellationToken)
    {
        var all = (await tenants.ListAsync(cancellationToken)).ToDictionary(t => t.Id, t => t.Slug);
        var staff = await db.Users.Where(u => u.TenantId == null).OrderBy(u => u.Email).ToListAsync(cancellationToken);
        var roles = await db.UserRoles.Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var served = await db.StaffTenants.ToListAsync(cancellationToken);
        return TypedResults.Ok(staff.Select(u => new StaffMember(
            u.Id,
            u.Email!,
            u.DisplayName,
            roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order(StringComparer.Ordinal).ToList(),
            served.Where(s => s.UserId == u.Id && all.ContainsKey(s.TenantId)).Select(s => all[s.TenantId]).Order(StringComparer.Ordinal).ToList())).ToList());
    }

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> AssignAsync(
        Guid id, AssignTenantsRequest request, ProDeskDbContext db, ITenantStore tenants, AuditLog audit, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id && u.TenantId == null, cancellationToken);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var wanted = new List<TenantInfo>();
        foreach (var (slug, index) in (request.Tenants ?? []).Select((s, i) => (s, i)))
        {
            if (await tenants.FindBySlugAsync(slug, cancellationToken) is not { } tenant)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [$"tenants[{index}]"] = [$"'{slug}' is not a tenant"] });
            }

            wanted.Add(tenant);
        }

        db.StaffTenants.RemoveRange(await db.StaffTenants.Where(s => s.UserId == id).ToListAsync(cancellationToken));
        db.StaffTenants.AddRange(wanted.DistinctBy(t => t.Id).Select(t => new StaffTenant { UserId = id, TenantId = t.Id }));
        await db.SaveChangesAsync(cancellationToken);
        // Open sessions pick the change up at their next security-stamp check (Identity:SessionRecheckSeconds),
        // personal access tokens at once, OAuth access tokens when they expire (one hour).
        await audit.RecordAsync(AuditLog.TenantsAssigned, actor, user.Email, details: string.Join(',', wanted.Select(t => t.Slug).Order(StringComparer.Ordinal)), cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }
}
