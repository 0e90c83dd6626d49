using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Sla;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Audit;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>
/// A provider admin changes the SLA policy of one queue and priority of the current tenant. A change is a
/// new version (the highest plus one); the versions before it stay, and items that started under them keep
/// them (WorkItem.SlaPolicyId), so a change applies to new items and never rewrites a deadline already given.
/// The same values again add nothing. Audited.
/// </summary>
public sealed class ChangeSlaPolicy(ProDeskDbContext db, AuditLog audit, TimeProvider clock)
{
    /// <summary>The whole policy (PUT): an absent target has no clock; absent warnings and pauses are the defaults.</summary>
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record Request(
        int? FirstResponseMinutes = null,
        int? NextResponseMinutes = null,
        int? ResolutionMinutes = null,
        IReadOnlyList<int>? WarningPercents = null,
        IReadOnlyList<string>? PauseStatuses = null,
        IReadOnlyList<EscalationRequest?>? Escalations = null);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record EscalationRequest(string? On = null, string? Action = null, string? Queue = null);

    public enum Outcome
    {
        Added,
        Unchanged,
        NotFound,
        Invalid,
    }

    public sealed record Result(Outcome Outcome, SlaPolicy? Policy = null, Dictionary<string, string[]>? Errors = null);

    public async Task<Result> HandleAsync(TenantInfo tenant, string queue, string priority, Request request, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var queueKeys = await db.Queues.AsNoTracking().Select(q => q.Key).ToListAsync(cancellationToken);
        if (!queueKeys.Contains(queue))
        {
            return new Result(Outcome.NotFound);
        }

        var errors = new Dictionary<string, string[]>();
        if (!EnumNames.TryParse<WorkItemPriority>(priority, ignoreCase: true, out var parsedPriority))
        {
            errors["priority"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemPriority>())}"];
        }

        var escalations = new List<SlaEscalation>();
        for (var i = 0; i < (request.Escalations?.Count ?? 0); i++)
        {
            if (request.Escalations![i] is not { } e)
            {
                errors[$"escalations[{i}]"] = ["must be an object with on, action and (for moveToQueue) queue"];
                escalations.Add(new SlaEscalation(SlaEscalation.OnBreach, SlaEscalation.NotifySupervisors)); // keeps the indexes of the others
                continue;
            }

            escalations.Add(new SlaEscalation(e.On ?? "", e.Action ?? "", string.IsNullOrWhiteSpace(e.Queue) ? null : e.Queue));
        }

        var warnings = request.WarningPercents ?? SlaPolicyRules.DefaultWarningPercents;
        var pauses = request.PauseStatuses ?? SlaPolicyRules.DefaultPauseStatuses;
        foreach (var (field, message) in SlaPolicyRules.Check(
            request.FirstResponseMinutes, request.NextResponseMinutes, request.ResolutionMinutes, warnings, pauses,
            escalations, queueKeys))
        {
            errors[field] = errors.TryGetValue(field, out var before) ? [.. before, message] : [message];
        }

        if (errors.Count > 0)
        {
            return new Result(Outcome.Invalid, Errors: errors);
        }

        var priorityName = parsedPriority.ToString();
        for (var attempt = 1; ; attempt++)
        {
            var current = await db.SlaPolicies.AsNoTracking()
                .Where(p => p.QueueKey == queue && p.Priority == priorityName)
                .OrderByDescending(p => p.Version).FirstOrDefaultAsync(cancellationToken);
            var next = new SlaPolicy
            {
                Id = Guid.CreateVersion7(),
                TenantId = tenant.Id,
                QueueKey = queue,
                Priority = priorityName,
                Version = (current?.Version ?? 0) + 1,
                FirstResponseMinutes = request.FirstResponseMinutes,
                NextResponseMinutes = request.NextResponseMinutes,
                ResolutionMinutes = request.ResolutionMinutes,
                WarningPercents = [.. warnings.Order()],
                // A set: in one order, so the same statuses listed otherwise are the same policy, not a new version.
                PauseStatuses = [.. SlaPolicyRules.InStatusOrder(pauses)],
                EscalationsJson = SlaEscalation.Serialize(escalations),
                CreatedBy = actor.FindFirstValue(ProDeskClaims.Email) ?? actor.Identity?.Name,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
            };

            if (current is not null && Describe(current, next) is null)
            {
                return new Result(Outcome.Unchanged, current);
            }

            db.SlaPolicies.Add(next);
            try
            {
                // One SaveChanges for the new version and its audit line.
                await audit.RecordAsync(AuditLog.SlaPolicyChanged, actor, $"{tenant.Slug} {queue}/{priorityName}", tenant.Id,
                    current is null ? $"v1: {Describe(null, next)}" : $"v{current.Version} -> v{next.Version}: {Describe(current, next)}", cancellationToken);
                return new Result(Outcome.Added, next);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another admin added the same version number first (unique index): number this one after theirs.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>What differs between two versions ("firstResponseMinutes 240 -> 120; ..."), or null when nothing does.</summary>
    internal static string? Describe(SlaPolicy? before, SlaPolicy after)
    {
        var changes = new List<string>();
        void Compare(string name, string? from, string? to)
        {
            if (from != to)
            {
                changes.Add(before is null ? $"{name} {to ?? "none"}" : $"{name} {from ?? "none"} -> {to ?? "none"}");
            }
        }

        Compare("firstResponseMinutes", before?.FirstResponseMinutes?.ToString(), after.FirstResponseMinutes?.ToString());
        Compare("nextResponseMinutes", before?.NextResponseMinutes?.ToString(), after.NextResponseMinutes?.ToString());
        Compare("resolutionMinutes", before?.ResolutionMinutes?.ToString(), after.ResolutionMinutes?.ToString());
        Compare("warningPercents", before is null ? null : string.Join(",", before.WarningPercents.Order()), string.Join(",", after.WarningPercents));
        Compare("pauseStatuses", before is null ? null : string.Join(",", SlaPolicyRules.InStatusOrder(before.PauseStatuses)), string.Join(",", after.PauseStatuses));
        Compare("escalations", before is null ? null : SlaEscalation.Serialize(SlaEscalation.Parse(before.EscalationsJson)), after.EscalationsJson);
        return changes.Count == 0 ? null : string.Join("; ", changes);
    }
}
