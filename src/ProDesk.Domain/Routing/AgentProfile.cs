namespace ProDesk.Domain.Routing;

/// <summary>
/// What routing needs to know about one agent at the moment it decides: which clients they serve,
/// what they can handle, whether they are taking work, and how much they already carry.
/// </summary>
/// <param name="Id">The agent's user id; the last tie-break of every routing order.</param>
/// <param name="ServedTenants">The client companies this agent works for; nothing else is ever routed to them.</param>
/// <param name="Skills">
/// Tags such as a language (<c>fr</c>) or a back-office speciality; matched without regard to case,
/// because they are typed by people in different places (agent profile, queue rules, widget language).
/// </param>
/// <param name="Status">Only <see cref="AgentStatus.Online"/> agents are pushed work.</param>
/// <param name="Capacity">Load units the agent may carry at once (see <see cref="WorkWeights"/>); zero takes no pushed work.</param>
/// <param name="CurrentLoad">Load units the agent carries now; may exceed a capacity lowered since.</param>
public sealed record AgentProfile(
    Guid Id,
    IReadOnlySet<Guid> ServedTenants,
    IReadOnlySet<string> Skills,
    AgentStatus Status,
    int Capacity,
    int CurrentLoad)
{
    // Checked on construction and on `with`, so a negative figure cannot reach a ratio or a comparison.
    public int Capacity { get; init => field = NotNegative(value, nameof(Capacity)); } = NotNegative(Capacity, nameof(Capacity));

    public int CurrentLoad { get; init => field = NotNegative(value, nameof(CurrentLoad)); } = NotNegative(CurrentLoad, nameof(CurrentLoad));

    /// <summary>Units left before the agent is full; zero when at or over capacity.</summary>
    public int FreeCapacity => Math.Max(0, Capacity - CurrentLoad);

    public bool Serves(Guid tenantId) => ServedTenants.Contains(tenantId);

    /// <summary>Whether the agent has every one of <paramref name="required"/> (case-insensitive).</summary>
    public bool HasSkills(IEnumerable<string> required) =>
        required.All(skill => Skills.Contains(skill) || Skills.Any(own => string.Equals(own, skill, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Whether an item of <paramref name="weight"/> units still fits under the agent's capacity.</summary>
    public bool HasRoomFor(int weight) => CurrentLoad + weight <= Capacity;

    /// <summary>
    /// Pull mode: the agent may take this item when they serve its tenant and have its skills.
    /// Status and capacity do not apply, because pulling is the agent's own explicit request.
    /// </summary>
    public bool CanPull(RoutingCandidate item) => Serves(item.TenantId) && HasSkills(item.RequiredSkills);

    /// <summary>Push mode: <see cref="CanPull"/>, and Online, and the item's weight fits.</summary>
    public bool CanBePushed(RoutingCandidate item, int weight) => Status == AgentStatus.Online && HasRoomFor(weight) && CanPull(item);

    private static int NotNegative(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, "must not be negative");
}
