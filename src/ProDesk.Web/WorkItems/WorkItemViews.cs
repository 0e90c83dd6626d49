using System.Text.Json.Serialization;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Channels.Outbound;

namespace ProDesk.Web.WorkItems;

/// <summary>What the API shows of an item. Enums travel as their names.</summary>
public sealed record WorkItemSummary(
    Guid Id, string Kind, string Status, string Priority, string Queue, string Subject, string Channel,
    string? ExternalId, Guid? AssigneeId, IReadOnlyList<string> Tags, DateTime CreatedAt, DateTime UpdatedAt, int Version)
{
    /// <summary>The tenant's slug, where the route did not name it (an item claimed across tenants by work/next).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }
}

/// <param name="Delivery">For a reply: pending, sent, failed or suppressed (the address bounced before); null for other messages.</param>
/// <param name="DeliveryError">Why a failed or suppressed reply did not go.</param>
/// <param name="From">For a customer's message: the address or number it came from. <paramref name="Author"/> is the name the sender gave, which may look like anyone's address.</param>
/// <param name="Cc">Who else a mail named, or whom a reply was copied to; empty for none.</param>
/// <param name="Automatic">A customer's message a machine wrote as an answer (an out-of-office): it names no copies and asks for nothing.</param>
/// <param name="AttachmentIds">The item's files (ids in its <c>attachments</c>) this message brought in, or, for a reply, sent to the customer.</param>
/// <param name="DeliveryStatus">For a reply by text: what Twilio last reported (queued, sent, delivered, read, undelivered, failed); null before it reports and for other channels.</param>
public sealed record MessageView(
    Guid Id, string Kind, string? Author, string Body, DateTime CreatedAt, string? Delivery = null, string? DeliveryError = null, string? From = null,
    IReadOnlyList<string>? Cc = null, string? SentBy = null, bool Automatic = false, IReadOnlyList<Guid>? AttachmentIds = null, string? DeliveryStatus = null);

public sealed record SlaView(IReadOnlyList<SlaTargetView> Targets, IReadOnlyDictionary<string, DateTime> DueAt, DateTime? PausedSince, IReadOnlyList<string> Breaches);

public sealed record SlaTargetView(string Name, int Minutes);

public sealed record ChangeView(DateTime At, string? Actor, string Field, string? From, string? To);

/// <param name="Csat">The customer's satisfaction rating of the item's latest rated solve; null when none.</param>
/// <param name="FollowUpOf">The closed item this one follows up (the customer answered it after it was closed); null when none.</param>
/// <param name="FollowUps">The items that follow this one up, newest first (<see cref="WorkItems.FollowUps.MaxListed"/> at most).</param>
public sealed record WorkItemDetail(
    WorkItemSummary Item,
    IReadOnlyList<MessageView> Messages,
    IReadOnlyList<Attachments.AttachmentView> Attachments,
    System.Text.Json.JsonElement Fields,
    IReadOnlyList<ChangeView> Changes,
    SlaView Sla,
    ProDesk.Web.Csat.ItemCsatView? Csat,
    FollowUps.Link? FollowUpOf,
    IReadOnlyList<FollowUps.Link> FollowUps);

public sealed record WorkItemPage(IReadOnlyList<WorkItemSummary> Items, string? NextCursor);

internal static class WorkItemViewMapping
{
    public static WorkItemSummary Summary(this WorkItem item, string queueKey) => new(
        item.Id, item.Kind.ToString(), item.Status.ToString(), item.Priority.ToString(), queueKey, item.Subject, item.Channel,
        item.ExternalId, item.AssigneeId, item.Tags, item.CreatedAt, item.UpdatedAt, item.Version);

    /// <param name="brought">The ids of the files that came with the message (attachments' <c>WorkItemMessageId</c>).</param>
    public static MessageView View(this WorkItemMessage message, Deliveries.Delivery? delivery = null, IEnumerable<Guid>? brought = null) =>
        new(message.Id, message.Kind.ToString(), message.AuthorName, message.Body, message.CreatedAt, delivery?.State, delivery?.Error,
            message.Kind == MessageKind.Inbound ? message.FromAddress : null, ProDesk.Domain.Channels.Email.MailCopies.Split(message.Cc),
            message.Kind == MessageKind.Inbound ? message.SentBy : null, message.Automatic,
            [.. (brought ?? []).Concat(delivery?.Files ?? [])], delivery?.ProviderStatus);
}
