using System.Collections.Frozen;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Routing;

/// <summary>
/// One item waiting for an agent, reduced to what routing decides on. Built from a row (or a
/// projection) by the caller; routing itself never touches the database.
/// </summary>
/// <param name="Id">The work item's id; the final tie-break, so the order is total.</param>
/// <param name="TenantId">The client company the item belongs to.</param>
/// <param name="Priority">More urgent items go first.</param>
/// <param name="DueAt">The nearest SLA deadline, if any; items without one go after those with one.</param>
/// <param name="CreatedAt">Older items go first among equals.</param>
/// <param name="Kind">The kind, which (with <paramref name="Channel"/>) decides the item's load weight.</param>
/// <param name="RequiredSkills">Skills an agent must have to take it (e.g. language <c>fr</c>); empty for none.</param>
/// <param name="Channel">
/// The conversation's channel (<c>email</c>, <c>chat</c>, ...): a live chat weighs more than an
/// email in an agent's load. Ignored for back-office kinds.
/// </param>
public sealed record RoutingCandidate(
    Guid Id,
    Guid TenantId,
    WorkItemPriority Priority,
    DateTimeOffset? DueAt,
    DateTimeOffset CreatedAt,
    WorkItemKind Kind,
    IReadOnlySet<string> RequiredSkills,
    string? Channel = null)
{
    /// <summary>A shared empty skill set, for items anyone serving the tenant may take.</summary>
    public static IReadOnlySet<string> NoSkills { get; } = FrozenSet<string>.Empty;
}
