using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Data.Sla;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>One version of the SLA policy of a queue and priority; targets in business minutes.</summary>
public sealed record SlaPolicyView(
    Guid Id, string Queue, string Priority, int Version,
    int? FirstResponseMinutes, int? NextResponseMinutes, int? ResolutionMinutes,
    IReadOnlyList<int> WarningPercents, IReadOnlyList<string> PauseStatuses, IReadOnlyList<SlaEscalation> Escalations,
    string? CreatedBy, DateTime CreatedAt)
{
    public static SlaPolicyView From(SlaPolicy p) => new(
        p.Id, p.QueueKey, p.Priority, p.Version, p.FirstResponseMinutes, p.NextResponseMinutes, p.ResolutionMinutes,
        [.. p.WarningPercents.Order()], p.PauseStatuses, SlaEscalation.Parse(p.EscalationsJson), p.CreatedBy, DateTime.SpecifyKind(p.CreatedAt, DateTimeKind.Utc));
}

/// <summary>The policies new items start under (the latest version of each queue and priority) and every version ever made.</summary>
public sealed record SlaPoliciesView(string Tenant, IReadOnlyList<SlaPolicyView> Policies, IReadOnlyList<SlaPolicyView> History);

/// <summary>Provider admins read and change a tenant's SLA policies. A change adds a version; items keep the one they started under.</summary>
public static class SlaPolicyApi
{
    public static RouteGroupBuilder MapSlaPolicyApi(this IEndpointRouteBuilder app)
    {
        var policies = app.MapGroup("/api/v1/tenants/{tenant}/sla").RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("SLA");
        policies.MapGet("/policies", ListAsync).WithName("ListSlaPolicies")
            .WithSummary("The current SLA policy of each queue and priority, and the history of every version with who made it and when (provider admins).");
        policies.MapPut("/policies/{queue}/{priority}", ChangeAsync).WithName("ChangeSlaPolicy")
            .WithSummary("Sets the SLA policy of a queue and priority as a new version (the latest plus one); items that already started keep their version. The same values again add nothing.");
        return policies;
    }

    /// <summary>The tenant's policies in queue order, most urgent priority first; the history newest version first.</summary>
    public static async Task<SlaPoliciesView> LoadAsync(ProDeskDbContext db, string slug, CancellationToken cancellationToken)
    {
        var all = await db.SlaPolicies.AsNoTracking().ToListAsync(cancellationToken);
        var ordered = all
            .OrderBy(p => p.QueueKey, StringComparer.Ordinal)
            .ThenByDescending(p => Enum.TryParse<WorkItemPriority>(p.Priority, out var priority) ? (int)priority : -1)
            .ThenByDescending(p => p.Version)
            .Select(SlaPolicyView.From)
            .ToList();
        var current = ordered.GroupBy(p => (p.Queue, p.Priority)).Select(g => g.First()).ToList();
        return new SlaPoliciesView(slug, current, ordered);
    }

    private static async Task<Results<Ok<SlaPoliciesView>, NotFound>> ListAsync(ITenantContext tenantContext, ProDeskDbContext db, CancellationToken cancellationToken) =>
        tenantContext.Current is { } tenant ? TypedResults.Ok(await LoadAsync(db, tenant.Slug, cancellationToken)) : TypedResults.NotFound();

    private static async Task<Results<Ok<SlaPolicyView>, NotFound, ValidationProblem>> ChangeAsync(
        string queue, string priority, ChangeSlaPolicy.Request request, ITenantContext tenantContext, ChangeSlaPolicy change, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (request.FirstResponseMinutes is null && request.NextResponseMinutes is null && request.ResolutionMinutes is null)
        {
            // An empty or mistyped body would stop every new item's clocks without a word. A policy without targets
            // is set on the SLA admin page, where each target is a field of its own.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["firstResponseMinutes"] = ["at least one target (firstResponseMinutes, nextResponseMinutes or resolutionMinutes) is required"],
            });
        }

        // Queue keys are lowercase (as slugs), and the route's other names are not case-sensitive either.
        var result = await change.HandleAsync(tenant, queue.ToLowerInvariant(), priority, request, user, cancellationToken);
        return result.Outcome switch
        {
            ChangeSlaPolicy.Outcome.Added or ChangeSlaPolicy.Outcome.Unchanged => TypedResults.Ok(SlaPolicyView.From(result.Policy!)),
            ChangeSlaPolicy.Outcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => TypedResults.NotFound(),
        };
    }
}
