namespace ProDesk.Web.Realtime;

/// <summary>Every SignalR group name, in one place.</summary>
public static class HubGroups
{
    public static string Tenant(Guid tenantId) => $"tenant:{tenantId}";

    public static string Queue(Guid queueId) => $"queue:{queueId}";

    public static string Item(Guid itemId) => $"item:{itemId}";

    /// <summary>The web chat visitors of an item, on /hubs/chat (a hub of its own, so never mixed with the agents' item group).</summary>
    public static string Chat(Guid itemId) => $"chat:{itemId}";

    /// <summary>The connections of one chat visitor's session (its tabs), on /hubs/chat.</summary>
    public static string ChatSession(Guid sessionId) => $"chat-session:{sessionId}";
}
