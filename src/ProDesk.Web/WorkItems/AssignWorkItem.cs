using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Takes, hands over or releases an item (PUT .../work-items/{id}/assignee). An agent takes unassigned work or
/// releases its own; moving a colleague's work is a supervisor's (or provider admin's) call, since "Next item"
/// never hands out assigned work and an agent could otherwise pull a live conversation from under a colleague.
/// </summary>
public static class AssignWorkItem
{
    /// <param name="AssigneeId">The member of staff serving the item's client who works it; null puts it back in the queue.</param>
    public sealed record AssigneeRequest(Guid? AssigneeId);

    public static void MapAssignWorkItem(this RouteGroupBuilder tenant) =>
        tenant.MapPut("/work-items/{id:guid}/assignee", AssignAsync).RequireAuthorization(WorkItemsApi.StaffPolicy).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("AssignWorkItem")
            .WithSummary("Sets who works the item (assigneeId null: back to the queue). Agents take unassigned items or release their own; supervisors assign anyone serving the client.");

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> AssignAsync(
        Guid id, AssigneeRequest request, ProDeskDbContext db, ClaimsPrincipal user, OutboxRelay relay, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Runs in the route's tenant: another tenant's item is not found.
        var item = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (item is null)
        {
            return TypedResults.NotFound();
        }

        var summary = item.Summary(await WorkItemsApi.QueueKeyAsync(db, item.QueueId, cancellationToken));
        if (item.Status == Domain.WorkItems.WorkItemStatus.Closed)
        {
            return WorkItemsApi.IsClosed(summary);
        }

        if (request.AssigneeId is { } assignee && !await ServesAsync(db, assignee, item.TenantId, cancellationToken))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["assigneeId"] = ["must be a member of staff serving this client"] });
        }

        var me = Guid.TryParse(user.FindFirstValue(ProDeskClaims.Subject), out var caller) ? caller : Guid.Empty;
        if (!TenantAccess.IsProviderWide(user))
        {
            if (request.AssigneeId is { } other && other != me)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["assigneeId"] = ["an agent assigns items only to themselves; a supervisor hands work to others"] });
            }

            if (item.AssigneeId is { } holder && holder != me)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Assigned to a colleague",
                    detail: "A colleague works this item; a supervisor can hand it over.",
                    extensions: new Dictionary<string, object?> { ["reason"] = "assigned", ["current"] = summary });
            }
        }

        if (item.AssigneeId == request.AssigneeId)
        {
            return TypedResults.Ok(summary);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        // WorkItemAssigned moves the queues and wallboards; the new version tells an open item page that it changed.
        WorkItemTrail.Assigned(db, item.Id, item.TenantId, request.AssigneeId, me, user.FindFirstValue(ProDeskClaims.Email), now, previous: item.AssigneeId);
        item.AssigneeId = request.AssigneeId;
        WorkItemTrail.Updated(db, item, now);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            var current = await db.WorkItems.AsNoTracking().FirstAsync(w => w.Id == id, cancellationToken);
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The item changed",
                detail: "Someone changed this item at the same moment; look again and retry.",
                extensions: new Dictionary<string, object?> { ["reason"] = "busy", ["current"] = current.Summary(summary.Queue) });
        }

        relay.Wake();
        return TypedResults.Ok(item.Summary(summary.Queue));
    }

    /// <summary>Staff who may work the tenant: agents through the tenants they serve, supervisors and provider admins everywhere.</summary>
    internal static async Task<bool> ServesAsync(ProDeskDbContext db, Guid userId, Guid tenantId, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == userId && u.TenantId == null, cancellationToken))
        {
            return false;
        }

        var roles = await db.UserRoles.Where(r => r.UserId == userId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).ToListAsync(cancellationToken);
        return roles.Contains(Roles.ProviderAdmin) || roles.Contains(Roles.Supervisor)
            || (roles.Contains(Roles.Agent) && await db.StaffTenants.AnyAsync(s => s.UserId == userId && s.TenantId == tenantId, cancellationToken));
    }
}
