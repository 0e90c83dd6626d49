using ProDesk.Domain.Routing;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Who is connected to the agent hub, their status and the item they are on: what the wallboard
/// shows and push routing picks from. One view for the whole cluster: with ConnectionStrings:Redis
/// every node reads and writes the same store (<see cref="RedisAgentPresence"/>), so a change made
/// through one node is seen by every node's next read. Without Redis (one node)
/// <see cref="InMemoryAgentPresence"/> holds it in the process.
/// </summary>
public interface IAgentPresence
{
    /// <summary>A hub connection of the agent opened; the agent's first connection makes it Online.</summary>
    Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default);

    /// <summary>A hub connection closed; with no connection left the agent is Offline and on no item.</summary>
    Task DisconnectedAsync(Guid id, string connectionId, CancellationToken cancellationToken = default);

    /// <summary>Changes the status and/or the item of a connected agent; an unknown agent is ignored.</summary>
    Task SetAsync(Guid id, AgentStatus? status = null, Guid? onItem = null, bool leftItem = false, CancellationToken cancellationToken = default);

    /// <summary>The agents serving any of <paramref name="tenants"/>, most available first.</summary>
    Task<IReadOnlyList<AgentSnapshot>> OfAsync(IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken = default);
}

/// <summary>One agent as a wallboard or the router sees it.</summary>
public sealed record AgentSnapshot(Guid Id, string Name, AgentStatus Status, Guid? OnItem, IReadOnlySet<Guid> Tenants)
{
    /// <summary>The order of <see cref="IAgentPresence.OfAsync"/>: Online, Away, Offline, then by name.</summary>
    public static IReadOnlyList<AgentSnapshot> MostAvailableFirst(IEnumerable<AgentSnapshot> agents) =>
        agents.OrderBy(a => a.Status switch { AgentStatus.Online => 0, AgentStatus.Away => 1, _ => 2 })
            .ThenBy(a => a.Name, StringComparer.Ordinal)
            .ToList();
}
