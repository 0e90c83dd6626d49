using System.Collections.Concurrent;
using ProDesk.Domain.Routing;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Who is connected to the agent hub, their status and the item they are on, for the wallboard.
/// Held per node: with several nodes each wallboard shows the agents connected to its own node
/// (a Redis-backed store is the next step, noted in the issue).
/// </summary>
public sealed class AgentPresence
{
    private readonly ConcurrentDictionary<Guid, Agent> _agents = new();

    public sealed class Agent(Guid id, string name)
    {
        public Guid Id { get; } = id;

        public string Name { get; } = name;

        public AgentStatus Status { get; set; } = AgentStatus.Online;

        public Guid? OnItem { get; set; }

        public HashSet<string> Connections { get; } = [];

        public IReadOnlySet<Guid> Tenants { get; set; } = new HashSet<Guid>();
    }

    public sealed record Snapshot(Guid Id, string Name, AgentStatus Status, Guid? OnItem, IReadOnlySet<Guid> Tenants);

    public void Connected(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants)
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
    }

    public void Disconnected(Guid id, string connectionId)
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
    }

    public void Set(Guid id, AgentStatus? status = null, Guid? onItem = null, bool leftItem = false)
    {
        if (_agents.TryGetValue(id, out var agent))
        {
            lock (agent)
            {
                agent.Status = status ?? agent.Status;
                agent.OnItem = leftItem ? null : onItem ?? agent.OnItem;
            }
        }
    }

    /// <summary>The agents serving any of <paramref name="tenants"/>, most available first.</summary>
    public IReadOnlyList<Snapshot> Of(IReadOnlyCollection<Guid> tenants) =>
        _agents.Values
            .Select(a =>
            {
                lock (a)
                {
                    return new Snapshot(a.Id, a.Name, a.Status, a.OnItem, a.Tenants);
                }
            })
            .Where(a => a.Tenants.Overlaps(tenants))
            .OrderBy(a => a.Status == AgentStatus.Online ? 0 : a.Status == AgentStatus.Away ? 1 : 2).ThenBy(a => a.Name, StringComparer.Ordinal)
            .ToList();
}
