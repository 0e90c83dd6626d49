using ProDesk.Domain.Tenancy;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Data.WorkItems;

/// <summary>One piece of work of any kind: a conversation, a secretary task, an invoice, a data-entry record.</summary>
public sealed class WorkItem : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public WorkItemKind Kind { get; set; }

    public WorkItemStatus Status { get; set; }

    public WorkItemPriority Priority { get; set; } = WorkItemPriority.Normal;

    public Guid QueueId { get; set; }

    public required string Subject { get; set; }

    /// <summary>Where the work came in and where replies go: api, email, chat, webform, sms, voice.</summary>
    public required string Channel { get; set; }

    /// <summary>The caller's id for the work (API externalId, Message-ID, ...): unique per tenant and channel.</summary>
    public string? ExternalId { get; set; }

    public Guid? ContactId { get; set; }

    /// <summary>
    /// The closed item this one follows up: the customer answered a conversation that was closed, which is never reopened,
    /// so the answer started this item (as Zendesk's follow-ups). Null for an item that follows nothing.
    /// </summary>
    public Guid? FollowUpOfId { get; set; }

    public Guid? AssigneeId { get; set; }

    public List<string> Tags { get; set; } = [];

    /// <summary>The tenant's custom fields, as a JSON object.</summary>
    public string CustomFieldsJson { get; set; } = "{}";

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>The SLA policy version the item's clocks started under; null when none applies.</summary>
    public Guid? SlaPolicyId { get; set; }

    /// <summary>The earliest due time among the item's running SLA clocks (null when none runs): the queue's order within a priority.</summary>
    public DateTime? DueAt { get; set; }

    /// <summary>When the item first breached a target (null if it never did).</summary>
    public DateTime? BreachedAt { get; set; }

    /// <summary>Bumped by every change: a reply based on an older version is stale (409).</summary>
    public int Version { get; set; } = 1;

    public List<WorkItemMessage> Messages { get; set; } = [];
}

public enum MessageKind
{
    /// <summary>From the customer or the client's system.</summary>
    Inbound,

    /// <summary>An agent's public reply, sent back on the item's channel.</summary>
    Reply,

    /// <summary>An internal note: never leaves the desk.</summary>
    Note,
}

public sealed class WorkItemMessage : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    public MessageKind Kind { get; set; }

    public Guid? AuthorUserId { get; set; }

    public string? AuthorName { get; set; }

    public required string Body { get; set; }

    /// <summary>Sanitized HTML of an inbound mail (never raw), shown instead of <see cref="Body"/> when present.</summary>
    public string? HtmlBody { get; set; }

    /// <summary>The sender's address of an inbound message (the contact, or someone on copy).</summary>
    public string? FromAddress { get; set; }

    /// <summary>
    /// The mailbox that sent an inbound mail for the customer: its From, when its Reply-To named the customer (a web site's
    /// contact form writing for a visitor). Shown beside the sender, so an agent sees who really sent it.
    /// </summary>
    public string? SentBy { get; set; }

    /// <summary>The mail Message-ID (without brackets) of this message, inbound or sent: what replies thread by.</summary>
    public string? InternetMessageId { get; set; }

    /// <summary>
    /// Space-separated addresses on copy: whom an inbound mail also named besides the desk, or whom a reply was copied to
    /// (<see cref="ProDesk.Domain.Channels.Email.MailCopies"/>); null for none.
    /// </summary>
    public string? Cc { get; set; }

    /// <summary>
    /// "{channel}:{the channel's id}" of an inbound message: ingesting it again finds it instead of storing it twice; on an
    /// agent's reply sent with an Idempotency-Key, "reply:{caller}:{key}" (no channel is named "reply"), so a retry sends nothing new.
    /// </summary>
    public string? ExternalId { get; set; }

    /// <summary>
    /// An inbound message a machine wrote as an answer (an out-of-office, an auto-responder's receipt): kept and labelled on
    /// the item, but never the mail a reply-all copies from, since it names nobody and its sender may be a shared mailbox
    /// that took no part (probe round 20).
    /// </summary>
    public bool Automatic { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>The audit trail of an item: every change, who made it, when, from what to what.</summary>
public sealed class WorkItemChange : ITenantOwned
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    public DateTime At { get; set; }

    public Guid? ActorId { get; set; }

    public string? ActorName { get; set; }

    public required string Field { get; set; }

    public string? From { get; set; }

    public string? To { get; set; }
}

/// <summary>
/// An event written in the same transaction as the change it reports; the outbox relay publishes
/// it afterwards (SignalR, webhooks), so a crash between the two loses nothing and sends nothing twice.
/// </summary>
public sealed class OutboxEvent : ITenantOwned
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Type { get; set; }

    public required string PayloadJson { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? PublishedAt { get; set; }
}

/// <summary>A file attached to an item: metadata here, bytes under the data directory (blobs/).</summary>
public sealed class WorkItemAttachment : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    /// <summary>The message it came with (a mail's attachments), or none for an agent's upload.</summary>
    public Guid? WorkItemMessageId { get; set; }

    /// <summary>The name as uploaded, for display only; never used as a path.</summary>
    public required string FileName { get; set; }

    public required string ContentType { get; set; }

    public long Length { get; set; }

    public required byte[] Sha256 { get; set; }

    public Guid? UploadedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
