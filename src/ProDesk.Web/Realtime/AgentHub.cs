using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
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
public sealed class AgentHub(ITenantContext tenantContext, ProDeskDbContext db) : Hub<IAgentClient>
{
    public const string Path = "/hubs/agent";

    public override async Task OnConnectedAsync()
    {
        foreach (var tenant in tenantContext.Scope.Tenants)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Tenant(tenant.Id));
        }

        await base.OnConnectedAsync();
    }

    /// <summary>The caller opened an item: it gets that item's presence events, and the others see it viewing.</summary>
    public async Task Watch(string tenant, Guid itemId)
    {
        await RequireItemAsync(itemId);
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Item(itemId));
        await Clients.OthersInGroup(HubGroups.Item(itemId)).PresenceChanged(Presence(tenant, itemId, "viewing"));
    }

    public async Task Unwatch(string tenant, Guid itemId)
    {
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, HubGroups.Item(itemId));
        await Clients.OthersInGroup(HubGroups.Item(itemId)).PresenceChanged(Presence(tenant, itemId, "left"));
    }

    public async Task Typing(string tenant, Guid itemId)
    {
        await RequireItemAsync(itemId);
        await Clients.OthersInGroup(HubGroups.Item(itemId)).PresenceChanged(Presence(tenant, itemId, "typing"));
    }

    private async Task RequireItemAsync(Guid itemId)
    {
        // Runs in the tenant named by the call (the hub filter): another tenant's item is not found.
        if (!await db.WorkItems.AnyAsync(w => w.Id == itemId))
        {
            throw new HubException("Not found.");
        }
    }

    private PresenceEvent Presence(string tenant, Guid itemId, string what) => new(
        tenant,
        itemId,
        Guid.TryParse(Context.User?.FindFirst(ProDeskClaims.Subject)?.Value, out var id) ? id : Guid.Empty,
        Context.User?.FindFirst(ProDeskClaims.Name)?.Value ?? "",
        what);
}
