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

    /// <summary>
    /// Records an assignment (claim or push) in the trail and the outbox; the caller saves. The PostgreSQL
    /// claim writes the same two rows in its one statement (ClaimNextItem).
    /// </summary>
    public static void Assigned(ProDeskDbContext db, Guid itemId, Guid tenantId, Guid assigneeId, Guid? actorId, string? actorName, DateTime now)
    {
        db.WorkItemChanges.Add(new WorkItemChange { WorkItemId = itemId, TenantId = tenantId, At = now, ActorId = actorId, ActorName = actorName, Field = "assignee", To = assigneeId.ToString() });
        db.OutboxEvents.Add(new OutboxEvent { TenantId = tenantId, Type = "WorkItemAssigned", PayloadJson = JsonSerializer.Serialize(new { Id = itemId, AssigneeId = assigneeId }), CreatedAt = now });
    }
}
