using ProDesk.Domain.Routing;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Who is connected to the agent hub, their status and the items they are on: what the wallboard
/// shows and push routing picks from. The status is the agent's own choice, kept apart from being
/// connected: it reads Offline while no connection is open and what was chosen again when one opens,
/// so a page change or a reconnect never turns an Away agent Online (probe round 20). The item is
/// kept per connection (one tab, one item), so an agent with two tabs is on both items. One view for the whole cluster: with ConnectionStrings:Redis
/// every node reads and writes the same store (<see cref="RedisAgentPresence"/>), so a change made
/// through one node is seen by every node's next read. Without Redis (one node)
/// <see cref="InMemoryAgentPresence"/> holds it in the process.
/// </summary>
public interface IAgentPresence
{
    /// <summary>A hub connection of the agent opened, on no item; an agent never seen before is Online.</summary>
    Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default);

    /// <summary>A hub connection closed, leaving its item; with no connection left the agent reads Offline.</summary>
    Task DisconnectedAsync(Guid id, string connectionId, CancellationToken cancellationToken = default);

    /// <summary>The agent chose a status; it holds until the agent chooses again. An unknown agent is ignored.</summary>
    Task SetStatusAsync(Guid id, AgentStatus status, CancellationToken cancellationToken = default);

    /// <summary>The item one connection's page is on (null: none); an unknown agent or connection is ignored.</summary>
    Task SetItemAsync(Guid id, string connectionId, Guid? item, CancellationToken cancellationToken = default);

    /// <summary>The status the agent last chose, connected or not (Online for an agent never seen): what its picker shows.</summary>
    Task<AgentStatus> ChosenAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>The agents serving any of <paramref name="tenants"/>, most available first.</summary>
    Task<IReadOnlyList<AgentSnapshot>> OfAsync(IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken = default);
}

/// <summary>One agent as a wallboard or the router sees it; OnItems: the items its open pages are on.</summary>
public sealed record AgentSnapshot(Guid Id, string Name, AgentStatus Status, IReadOnlySet<Guid> OnItems, IReadOnlySet<Guid> Tenants)
{
    /// <summary>The order of <see cref="IAgentPresence.OfAsync"/>: Online, Away, Offline, then by name.</summary>
    public static IReadOnlyList<AgentSnapshot> MostAvailableFirst(IEnumerable<AgentSnapshot> agents) =>
        agents.OrderBy(a => a.Status switch { AgentStatus.Online => 0, AgentStatus.Away => 1, _ => 2 })
            .ThenBy(a => a.Name, StringComparer.Ordinal)
            .ToList();
}
