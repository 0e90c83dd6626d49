using Microsoft.AspNetCore.SignalR;

namespace ProDesk.Web.Realtime;

/// <summary>How features publish live events; nothing else talks to the hub context.</summary>
public interface IRealtimeNotifier
{
    Task WorkItemChangedAsync(Guid tenantId, string type, WorkItemEvent item, CancellationToken cancellationToken = default);

    Task SlaFiredAsync(Guid tenantId, string type, SlaEvent sla, CancellationToken cancellationToken = default);

    /// <summary>Someone who is not an agent (a chat visitor) is typing on an item: the agents watching it see PresenceChanged.</summary>
    Task ItemPresenceAsync(PresenceEvent presence, CancellationToken cancellationToken = default);
}

internal sealed class SignalRNotifier(IHubContext<AgentHub, IAgentClient> hub) : IRealtimeNotifier
{
    public async Task WorkItemChangedAsync(Guid tenantId, string type, WorkItemEvent item, CancellationToken cancellationToken = default)
    {
        var group = hub.Clients.Group(HubGroups.Tenant(tenantId));
        await (type switch
        {
            "WorkItemCreated" => group.WorkItemCreated(item),
            "WorkItemAssigned" => group.WorkItemAssigned(item),
            _ => group.WorkItemUpdated(item),
        });
    }

    public Task SlaFiredAsync(Guid tenantId, string type, SlaEvent sla, CancellationToken cancellationToken = default)
    {
        var group = hub.Clients.Group(HubGroups.Tenant(tenantId));
        return type == nameof(IAgentClient.SlaBreached) ? group.SlaBreached(sla) : group.SlaWarning(sla);
    }

    public Task ItemPresenceAsync(PresenceEvent presence, CancellationToken cancellationToken = default) =>
        hub.Clients.Group(HubGroups.Item(presence.ItemId)).PresenceChanged(presence);
}
