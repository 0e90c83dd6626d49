namespace ProDesk.Domain.Routing;

/// <summary>
/// Push mode that deals items out in turn: among the eligible agents, ordered by id, the first one
/// after the agent picked last, wrapping around to the start.
/// </summary>
/// <remarks>
/// The cursor is the id of the agent picked last rather than a position in a list, so agents going
/// away, coming online or filling up between calls never make the turn skip or repeat anyone who is
/// still eligible. It survives a restart or moves between nodes by saving <see cref="LastPicked"/>
/// and passing it back to the constructor. One instance serves one queue; calls are safe from
/// several threads.
/// </remarks>
public sealed class RoundRobinRouter(WorkWeights? weights = null, Guid? lastPicked = null) : IPushRouter
{
    private readonly WorkWeights _weights = weights ?? WorkWeights.Default;
    private readonly Lock _gate = new();
    private Guid? _lastPicked = lastPicked;

    /// <summary>The agent picked last (the cursor); null before the first pick.</summary>
    public Guid? LastPicked
    {
        get
        {
            lock (_gate)
            {
                return _lastPicked;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>When nobody is eligible the cursor stays where it was.</remarks>
    public AgentProfile? PickAgent(RoutingCandidate item, IEnumerable<AgentProfile> agents)
    {
        var weight = _weights.WeightOf(item);
        var eligible = agents.Where(a => a.CanBePushed(item, weight)).ToList();
        if (eligible.Count == 0)
        {
            return null;
        }

        lock (_gate)
        {
            AgentProfile? first = null;
            AgentProfile? next = null;
            foreach (var agent in eligible)
            {
                if (first is null || agent.Id.CompareTo(first.Id) < 0)
                {
                    first = agent;
                }

                if (_lastPicked is { } last && agent.Id.CompareTo(last) > 0 && (next is null || agent.Id.CompareTo(next.Id) < 0))
                {
                    next = agent;
                }
            }

            var chosen = next ?? first!;
            _lastPicked = chosen.Id;
            return chosen;
        }
    }
}
