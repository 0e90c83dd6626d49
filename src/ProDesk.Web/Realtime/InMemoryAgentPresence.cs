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

        public AgentStatus Status { get; set; } = AgentStatus.Online;

        public Guid? OnItem { get; set; }

        public HashSet<string> Connections { get; } = [];

        public IReadOnlySet<Guid> Tenants { get; set; } = new HashSet<Guid>();
    }

    public Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default)
    {
        var agent = _agents.GetOrAdd(id, _ => new Agent(id, name));
        lock (agent)
        {
            if (agent.Connections.Count == 0)
            {
                agent.Status = AgentStatus.Online;
            }

            agent.Connections.Add(connectionId);
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
                if (agent.Connections.Count == 0)
                {
                    agent.Status = AgentStatus.Offline;
                    agent.OnItem = null;
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task SetAsync(Guid id, AgentStatus? status = null, Guid? onItem = null, bool leftItem = false, CancellationToken cancellationToken = default)
    {
        if (_agents.TryGetValue(id, out var agent))
        {
            lock (agent)
            {
                agent.Status = status ?? agent.Status;
                agent.OnItem = leftItem ? null : onItem ?? agent.OnItem;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AgentSnapshot>> OfAsync(IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken = default) =>
        Task.FromResult(AgentSnapshot.MostAvailableFirst(_agents.Values
            .Select(a =>
            {
                lock (a)
                {
                    return new AgentSnapshot(a.Id, a.Name, a.Status, a.OnItem, a.Tenants);
                }
            })
            .Where(a => a.Tenants.Overlaps(tenants))));
}
