namespace ProDesk.Web.Realtime;

/// <summary>
/// An event about a work item, as agents' consoles receive it. Channel (email, chat, ...) lets a page tell a new
/// live chat, which someone is waiting on, from other work without asking the server (probe round 20).
/// </summary>
public sealed record WorkItemEvent(string Tenant, Guid Id, string? Subject, string? Status, string? Priority, Guid? AssigneeId, int Version, string? Channel = null);

/// <summary>
/// An SLA warning (Percent below 100) or breach of one target of an item. NotifySupervisors: the
/// policy escalates it to supervisors, whose wallboard raises an alert.
/// </summary>
public sealed record SlaEvent(string Tenant, Guid ItemId, string? Subject, string Target, int Percent, DateTime DueAt, bool NotifySupervisors);

/// <summary>Who is looking at or typing on an item.</summary>
public sealed record PresenceEvent(string Tenant, Guid ItemId, Guid UserId, string Name, string What);

/// <summary>
/// Agents came, went or changed status or item for a tenant's wallboards (Tenant null: the caller's
/// tenants). Queue numbers change with the item events, which wallboards also redraw on.
/// </summary>
public sealed record QueueStatsEvent(string? Tenant);

/// <summary>The server-to-client events of /hubs/agent (CONTRACT.md).</summary>
public interface IAgentClient
{
    Task WorkItemCreated(WorkItemEvent item);

    Task WorkItemUpdated(WorkItemEvent item);

    Task WorkItemAssigned(WorkItemEvent item);

    Task SlaWarning(SlaEvent sla);

    Task SlaBreached(SlaEvent sla);

    Task PresenceChanged(PresenceEvent presence);

    Task QueueStats(QueueStatsEvent stats);
}
