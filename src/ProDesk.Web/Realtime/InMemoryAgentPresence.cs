using System.Collections.Concurrent;
using ProDesk.Domain.Routing;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Presence held in this process: the single-node default (no ConnectionStrings:Redis). With several
/// nodes it would only know the agents connected to its own node, which is why a Redis
/// configuration uses <see cref="RedisAgentPresence"/> instead.
/// </summary>
public sealed class InMemoryAgentPresence : IAgentPresence
{
    private readonly ConcurrentDictionary<Guid, Agent> _agents = new();

    private sealed class Agent(Guid id, string name)
    {
        public Guid Id { get; } = id;

        public string Name { get; } = name;

        /// <summary>What the agent chose; read as Offline while no connection is open (see <see cref="IAgentPresence"/>).</summary>
        public AgentStatus Chosen { get; set; } = AgentStatus.Online;

        /// <summary>Each open connection and the item its page is on (one tab, one item).</summary>
        public Dictionary<string, Guid?> Connections { get; } = new(StringComparer.Ordinal);

        public IReadOnlySet<Guid> Tenants { get; set; } = new HashSet<Guid>();
    }

    public Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default)
    {
        var agent = _agents.GetOrAdd(id, _ => new Agent(id, name));
        lock (agent)
        {
            agent.Connections.TryAdd(connectionId, null);
            agent.Tenants = tenants;
        }

        return Task.CompletedTask;
    }

    public Task DisconnectedAsync(Guid id, string connectionId, CancellationToken cancellationToken = default)
    {
        if (_agents.TryGetValue(id, out var agent))
        {
            lock (agent)
            {
                agent.Connections.Remove(connectionId);
            }
        }

        return Task.CompletedTask;
    }

    public Task SetStatusAsync(Guid id, AgentStatus status, CancellationToken cancellationToken = default)
    {
        if (_agents.TryGetValue(id, out var agent))
        {
            lock (agent)
            {
                agent.Chosen = status;
            }
        }

        return Task.CompletedTask;
    }

    public Task SetItemAsync(Guid id, string connectionId, Guid? item, CancellationToken cancellationToken = default)
    {
        if (_agents.TryGetValue(id, out var agent))
        {
            lock (agent)
            {
                if (agent.Connections.ContainsKey(connectionId))
                {
                    agent.Connections[connectionId] = item;
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<AgentStatus> ChosenAsync(Guid id, CancellationToken cancellationToken = default)
    {
        if (!_agents.TryGetValue(id, out var agent))
        {
            return Task.FromResult(AgentStatus.Online);
        }

        lock (agent)
        {
            return Task.FromResult(agent.Chosen);
        }
    }

    public Task<IReadOnlyList<AgentSnapshot>> OfAsync(IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken = default) =>
        Task.FromResult(AgentSnapshot.MostAvailableFirst(_agents.Values
            .Select(a =>
            {
                lock (a)
                {
                    var connected = a.Connections.Count > 0;
                    return new AgentSnapshot(a.Id, a.Name, connected ? a.Chosen : AgentStatus.Offline,
                        a.Connections.Values.OfType<Guid>().ToHashSet(), a.Tenants);
                }
            })
            .Where(a => a.Tenants.Overlaps(tenants))));
}
