namespace ProDesk.Domain.Routing;

/// <summary>
/// Push mode that evens out the work: the eligible agent with the lowest load ratio
/// (<see cref="AgentProfile.CurrentLoad"/> / <see cref="AgentProfile.Capacity"/>), ties broken by id.
/// </summary>
/// <remarks>
/// The ratio, not the absolute load, because capacities differ: a senior agent at 4 of 10 is less
/// busy than a trainee at 2 of 4. Ratios are compared by cross-multiplying integers, so equal ratios
/// (1/2 and 3/6) tie exactly and fall to the id, never to floating-point rounding.
/// </remarks>
public sealed class LeastLoadedRouter(WorkWeights? weights = null) : IPushRouter
{
    private readonly WorkWeights _weights = weights ?? WorkWeights.Default;

    /// <inheritdoc />
    public AgentProfile? PickAgent(RoutingCandidate item, IEnumerable<AgentProfile> agents)
    {
        var weight = _weights.WeightOf(item);
        AgentProfile? best = null;
        foreach (var agent in agents)
        {
            if (agent.CanBePushed(item, weight) && (best is null || IsLessLoaded(agent, best)))
            {
                best = agent;
            }
        }

        return best;
    }

    private static bool IsLessLoaded(AgentProfile a, AgentProfile b)
    {
        // Eligible agents have Capacity >= weight >= 1, so neither denominator is zero.
        var byRatio = ((long)a.CurrentLoad * b.Capacity).CompareTo((long)b.CurrentLoad * a.Capacity);
        return byRatio != 0 ? byRatio < 0 : a.Id.CompareTo(b.Id) < 0;
    }
}
