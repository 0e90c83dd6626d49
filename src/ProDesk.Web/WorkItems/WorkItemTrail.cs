using System.Text.Json;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Web.WorkItems;

/// <summary>What every writer of work items records the same way: the change trail and the outbox event.</summary>
internal static class WorkItemTrail
{
    /// <summary>The statuses of work still in hand (open or waiting on others), as a list EF can translate.</summary>
    public static readonly WorkItemStatus[] ActiveStatuses = [WorkItemStatus.Open, WorkItemStatus.Pending, WorkItemStatus.OnHold];

    /// <summary>Records one change of an item in its trail (who, when, which field, from, to); the caller saves.</summary>
    public static void Changed(ProDeskDbContext db, Guid itemId, Guid tenantId, DateTime now, Guid? actorId, string? actorName, string field, string? from, string? to) =>
        db.WorkItemChanges.Add(new WorkItemChange
        {
            WorkItemId = itemId, TenantId = tenantId, At = now, ActorId = actorId, ActorName = actorName, Field = field, From = from, To = to,
        });

    /// <summary>A new version of <paramref name="item"/>, announced to its consoles (<see cref="Announce"/>); the caller saves.</summary>
    public static void Updated(ProDeskDbContext db, WorkItem item, DateTime now, string type = "WorkItemUpdated")
    {
        item.Version++;
        item.UpdatedAt = now;
        Announce(db, item.Id, item.TenantId, item.Version, item.Status, now, type);
    }

    /// <summary>The outbox event that tells consoles an item is now at <paramref name="version"/> in <paramref name="status"/>; the caller saves.</summary>
    public static void Announce(ProDeskDbContext db, Guid itemId, Guid tenantId, int version, WorkItemStatus status, DateTime now, string type = "WorkItemUpdated") =>
        db.OutboxEvents.Add(new OutboxEvent
        {
            TenantId = tenantId, Type = type, CreatedAt = now,
            PayloadJson = JsonSerializer.Serialize(new { Id = itemId, Version = version, Status = status.ToString() }),
        });

    /// <summary>
    /// Claim order in a query (priority, then SLA due time with items that have none last, then age, then id):
    /// the order of the agent's queue and of the claim on SQLite; <c>ClaimNextItem</c>'s PostgreSQL statement and
    /// <c>ProDesk.Domain.Routing.NextItemOrder</c> spell the same order.
    /// </summary>
    public static IOrderedQueryable<WorkItem> InClaimOrder(this IQueryable<WorkItem> items) =>
        items.OrderByDescending(w => w.Priority).ThenBy(w => w.DueAt == null).ThenBy(w => w.DueAt).ThenBy(w => w.CreatedAt).ThenBy(w => w.Id);

    /// <summary>
    /// Records an assignment (claim, push, or a hand-over from <paramref name="previous"/>; a null
    /// <paramref name="assigneeId"/> releases the item) in the trail and the outbox; the caller saves. The PostgreSQL
    /// claim writes the same two rows in its one statement (ClaimNextItem).
    /// </summary>
    public static void Assigned(ProDeskDbContext db, Guid itemId, Guid tenantId, Guid? assigneeId, Guid? actorId, string? actorName, DateTime now, Guid? previous = null)
    {
        Changed(db, itemId, tenantId, now, actorId, actorName, "assignee", previous?.ToString(), assigneeId?.ToString());
        db.OutboxEvents.Add(new OutboxEvent { TenantId = tenantId, Type = "WorkItemAssigned", PayloadJson = JsonSerializer.Serialize(new { Id = itemId, AssigneeId = assigneeId }), CreatedAt = now });
    }
}
