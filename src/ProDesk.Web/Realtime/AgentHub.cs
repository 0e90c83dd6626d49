using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Realtime;

/// <summary>
/// /hubs/agent: agents and supervisors. On connect the caller joins the group of every tenant it
/// serves, so it receives events for those tenants only. Every call that names a tenant is checked
/// per invocation by the tenant hub filter, and the item must exist in that tenant.
/// </summary>
[Authorize(Policy = WorkItemsApi.StaffPolicy)]
public sealed class AgentHub(ITenantContext tenantContext, ProDeskDbContext db, IAgentPresence presence, QueueStatsAnnouncer announcer, IChatNotifier chat, HubSessions sessions)
    : Hub<IAgentClient>
{
    public const string Path = "/hubs/agent";

    /// <summary>The item this connection is on (one page, one item), so that its closing can say the agent left.</summary>
    private static readonly object WatchedKey = new();

    private sealed record Watched(string Tenant, Guid ItemId);

    /// <summary>Marks a connection refused at its opening (too many of its user's open), which joined nothing and announces nothing.</summary>
    private static readonly object RefusedKey = new();

    public override async Task OnConnectedAsync()
    {
        // Counted before anything is joined or announced: a refused connection costs no group and no QueueStats fan-out.
        if (!sessions.TryOpen(Context))
        {
            Context.Items[RefusedKey] = true;
            Context.Abort();
            return;
        }

        foreach (var tenant in tenantContext.Scope.Tenants)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Tenant(tenant.Id));
        }

        // Presence is who takes work: push routing, the chat widget's "agents online" and the wallboard's agent list
        // read it. Only the Agent role works items; a supervisor's wallboard (or console) is connected here too, and
        // counting it gave pushed work to a supervisor and a "Start chat" nobody answered (probe round 19).
        if (WorksItems)
        {
            await presence.ConnectedAsync(UserId, UserName, Context.ConnectionId, tenantContext.Scope.TenantIds.ToHashSet());
        }

        Announce();
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(RefusedKey))
        {
            await base.OnDisconnectedAsync(exception);
            return;
        }

        sessions.Closed(Context.ConnectionId);
        if (WorksItems)
        {
            await presence.DisconnectedAsync(UserId, Context.ConnectionId);
        }

        // A closed tab, a lost network or a page left for the queue: the others stop seeing the agent on the item,
        // unless another of the agent's tabs is still on it.
        if (Context.Items.TryGetValue(WatchedKey, out var value) && value is Watched watched && !await StillOnAsync(watched.ItemId))
        {
            await Clients.Group(HubGroups.Item(watched.ItemId)).PresenceChanged(Presence(watched.Tenant, watched.ItemId, "left"));
        }

        Announce();
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Online (taking work), Away (not taking new work) or Offline.</summary>
    public async Task SetStatus(string status)
    {
        if (!EnumNames.TryParse<Domain.Routing.AgentStatus>(status, ignoreCase: true, out var parsed))
        {
            throw new HubException("Status must be Online, Away or Offline.");
        }

        // The agent's own choice, kept until the next one: opening pages and reconnecting do not change it.
        await presence.SetStatusAsync(UserId, parsed);
        Announce();
    }

    /// <summary>
    /// The caller opened an item: it gets that item's presence events, the others see it viewing, and it is answered
    /// who is already viewing, since the one who arrives second is the one about to collide (probe round 19).
    /// </summary>
    public async Task<IReadOnlyList<PresenceEvent>> Watch(string tenant, Guid itemId)
    {
        // Named as the others' consoles name it, whatever case the caller used (TenantHubFilter found it either way).
        tenant = tenant.ToLowerInvariant();
        await RequireItemAsync(itemId);
        if (Context.Items.TryGetValue(WatchedKey, out var value) && value is Watched before && before.ItemId != itemId)
        {
            // Already checked when it was watched, possibly in another tenant than this call's.
            await LeaveAsync(before);
        }

        Context.Items[WatchedKey] = new Watched(tenant, itemId);
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Item(itemId));
        await presence.SetItemAsync(UserId, Context.ConnectionId, itemId);
        await Clients.OthersInGroup(HubGroups.Item(itemId)).PresenceChanged(Presence(tenant, itemId, "viewing"));
        Announce();
        var me = UserId;
        return [.. (await presence.OfAsync([tenantContext.Current!.Id], Context.ConnectionAborted))
            .Where(a => a.OnItems.Contains(itemId) && a.Id != me)
            .Select(a => new PresenceEvent(tenant, itemId, a.Id, a.Name, "viewing"))];
    }

    public async Task Unwatch(string tenant, Guid itemId)
    {
        await RequireItemAsync(itemId);
        await LeaveAsync(new Watched(tenant.ToLowerInvariant(), itemId));
    }

    private async Task LeaveAsync(Watched watched)
    {
        if (Context.Items.TryGetValue(WatchedKey, out var value) && value is Watched current && current.ItemId == watched.ItemId)
        {
            Context.Items.Remove(WatchedKey);
        }

        await Groups.RemoveFromGroupAsync(Context.ConnectionId, HubGroups.Item(watched.ItemId));
        await presence.SetItemAsync(UserId, Context.ConnectionId, null);
        if (!await StillOnAsync(watched.ItemId))
        {
            await Clients.OthersInGroup(HubGroups.Item(watched.ItemId)).PresenceChanged(Presence(watched.Tenant, watched.ItemId, "left"));
        }

        Announce();
    }

    /// <summary>
    /// Whether another connection of the caller (another tab) is still on the item: presence is per connection, so
    /// closing one of two tabs on an item does not tell the colleague the agent left (probe round 20). Only agents
    /// are in presence; a supervisor's tab leaving says "left" as before.
    /// </summary>
    private async Task<bool> StillOnAsync(Guid itemId)
    {
        var me = UserId;
        return WorksItems && (await presence.OfAsync([.. tenantContext.Scope.TenantIds])).Any(a => a.Id == me && a.OnItems.Contains(itemId));
    }

    public async Task Typing(string tenant, Guid itemId)
    {
        await RequireItemAsync(itemId);
        await Clients.OthersInGroup(HubGroups.Item(itemId)).PresenceChanged(Presence(tenant, itemId, "typing"));
        // A chat item's visitor sees it too (an item without visitors has an empty chat group).
        await chat.TypingAsync(itemId, UserName);
    }

    private async Task RequireItemAsync(Guid itemId)
    {
        // Runs in the tenant named by the call (the hub filter): another tenant's item is not found.
        if (!await db.WorkItems.AnyAsync(w => w.Id == itemId))
        {
            throw new HubException("Not found.");
        }
    }

    private Guid UserId => Guid.TryParse(Context.User?.FindFirst(ProDeskClaims.Subject)?.Value, out var id) ? id : Guid.Empty;

    private bool WorksItems => Context.User?.IsInRole(Roles.Agent) == true;

    private string UserName => Context.User?.FindFirst(ProDeskClaims.Name)?.Value ?? "";

    private PresenceEvent Presence(string tenant, Guid itemId, string what) => new(tenant, itemId, UserId, UserName, what);

    /// <summary>Wallboards of the caller's tenants refresh their agent list (coalesced).</summary>
    private void Announce() => announcer.Announce(tenantContext.Scope.TenantIds);
}
