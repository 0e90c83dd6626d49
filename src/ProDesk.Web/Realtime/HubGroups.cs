namespace ProDesk.Web.Realtime;

/// <summary>Every SignalR group name, in one place.</summary>
public static class HubGroups
{
    public static string Tenant(Guid tenantId) => $"tenant:{tenantId}";

    public static string Queue(Guid queueId) => $"queue:{queueId}";

    public static string Item(Guid itemId) => $"item:{itemId}";
}
