using ProDesk.Domain.Routing;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Tests.Routing;

/// <summary>Short builders for routing tests: readable ids, one default tenant, sensible defaults.</summary>
internal static class Build
{
    public static readonly Guid TenantA = Id(0xA00);
    public static readonly Guid TenantB = Id(0xB00);
    public static readonly DateTimeOffset T0 = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    /// <summary>An id whose order follows <paramref name="n"/>, so tests can state the expected order plainly.</summary>
    public static Guid Id(int n) => Guid.Parse($"00000000-0000-0000-0000-{n:x12}");

    public static IReadOnlySet<string> Skills(params string[] skills) => skills.ToHashSet();

    public static RoutingCandidate Item(
        int id,
        WorkItemPriority priority = WorkItemPriority.Normal,
        DateTimeOffset? due = null,
        DateTimeOffset? created = null,
        Guid? tenant = null,
        WorkItemKind kind = WorkItemKind.Conversation,
        string? channel = "email",
        params string[] skills) =>
        new(Id(id), tenant ?? TenantA, priority, due, created ?? T0, kind, skills.Length == 0 ? RoutingCandidate.NoSkills : Skills(skills), channel);

    public static AgentProfile Agent(
        int id,
        int capacity = 10,
        int load = 0,
        AgentStatus status = AgentStatus.Online,
        Guid[]? tenants = null,
        params string[] skills) =>
        new(Id(id), (tenants ?? [TenantA]).ToHashSet(), Skills(skills), status, capacity, load);
}
