using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity;

/// <summary>Provider admins manage staff and which client companies each member serves.</summary>
public static class StaffApi
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record AssignTenantsRequest(IReadOnlyList<string>? Tenants);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record ChangeRoleRequest(string? Role);

    public static RouteGroupBuilder MapStaffApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/admin/staff").RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("Staff");
        api.MapGet("/", ListAsync).WithName("ListStaff").WithSummary("Provider staff with their roles and the tenants they serve.");
        api.MapPut("/{id:guid}/tenants", AssignAsync).WithName("AssignStaffTenants").WithSummary("Replaces the tenants a member of staff serves (slugs); [\"*\"] is every tenant, and every client onboarded later.");
        api.MapPut("/{id:guid}/role", ChangeRoleAsync).WithName("ChangeStaffRole").WithSummary("Sets the one staff role of a member of staff (ProviderAdmin, Supervisor, Agent).");
        return api;
    }

    private static async Task<Ok<List<StaffDirectory.Member>>> ListAsync(StaffDirectory staff, CancellationToken cancellationToken) =>
        TypedResults.Ok(await staff.ListAsync(cancellationToken));

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> ChangeRoleAsync(
        Guid id, ChangeRoleRequest request, StaffDirectory staff, UserManager<AppUser> users, AuditLog audit, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var user = await staff.FindAsync(id, cancellationToken);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        // Named as the status of an item is, whatever its case ("agent" is Agent).
        if (Roles.Staff.FirstOrDefault(r => string.Equals(r, request.Role, StringComparison.OrdinalIgnoreCase)) is not { } role)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["role"] = [$"must be one of {string.Join(", ", Roles.Staff)}"] });
        }

        if (user.Id.ToString() == actor.FindFirstValue(ProDeskClaims.Subject) && role != Roles.ProviderAdmin)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["role"] = ["a provider admin cannot demote themselves"] });
        }

        var before = await users.GetRolesAsync(user);
        if (before.SequenceEqual([role]))
        {
            // The role it has: nothing changes, so the member's sessions and tokens are left alone (a new stamp signs them out).
            return TypedResults.NoContent();
        }

        await users.RemoveFromRolesAsync(user, before);
        await users.AddToRoleAsync(user, role);
        // A role change takes effect everywhere: sessions and OAuth refresh tokens re-check the stamp.
        await users.UpdateSecurityStampAsync(user);
        await audit.RecordAsync(AuditLog.RoleChanged, actor, user.Email, details: $"{string.Join(',', before)} -> {role}", cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> AssignAsync(
        Guid id, AssignTenantsRequest request, StaffDirectory staff, ITenantStore tenants, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var user = await staff.FindAsync(id, cancellationToken);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        if (request.Tenants is null)
        {
            // A body without the list is a mistake, not a wish to take every tenant away: that is an empty list.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenants"] = ["is required (an empty list removes every tenant)"] });
        }

        if (request.Tenants is ["*"])
        {
            await staff.AssignAsync(user, await tenants.ListAsync(cancellationToken), actor, allTenants: true, cancellationToken);
            return TypedResults.NoContent();
        }

        var wanted = new List<TenantInfo>();
        foreach (var (slug, index) in request.Tenants.Select((s, i) => (s, i)))
        {
            if (slug is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [$"tenants[{index}]"] = ["must be a tenant slug, not null"] });
            }

            if (await tenants.FindBySlugAsync(slug.ToLowerInvariant(), cancellationToken) is not { } tenant)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [$"tenants[{index}]"] = [$"'{slug}' is not a tenant"] });
            }

            wanted.Add(tenant);
        }

        await staff.AssignAsync(user, wanted, actor, cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }
}
