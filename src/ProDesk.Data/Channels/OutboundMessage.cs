using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

public enum OutboundState
{
    Pending,
    Sent,

    /// <summary>Gave up after the last retry.</summary>
    Failed,

    /// <summary>Not sent on purpose: the address bounced permanently, or the auto-reply cap was reached.</summary>
    Suppressed,
}

/// <summary>
/// One message to send on a channel (an agent's reply, an automatic acknowledgment, a CSAT link),
/// written in the same transaction as the change that caused it and sent afterwards by the
/// dispatcher with retries: nothing talks to SMTP or an SMS gateway inside a request's transaction.
/// </summary>
public sealed class OutboundMessage : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    /// <summary>The reply message on the item, when this is one.</summary>
    public Guid? WorkItemMessageId { get; set; }

    /// <summary>email, sms, whatsapp, chat.</summary>
    public required string Channel { get; set; }

    public required string To { get; set; }

    public string? ToName { get; set; }

    /// <summary>Space-separated addresses a mail is copied to (an agent's reply to a customer who wrote with others on copy); null for none.</summary>
    public string? Cc { get; set; }

    public string? Subject { get; set; }

    public required string Body { get; set; }

    /// <summary>
    /// Files of the item sent with a reply by mail, as JSON <c>[{"id","fileName","contentType"}]</c> (names as they were when
    /// the reply was written, so the sender needs no lookup); null for none. The bytes are read from the item's blobs at
    /// each attempt, never copied into the row.
    /// </summary>
    public string? AttachmentsJson { get; set; }

    /// <summary>Our Message-ID for mail (without brackets); a reply to it threads back by In-Reply-To.</summary>
    public string? InternetMessageId { get; set; }

    public string? InReplyTo { get; set; }

    /// <summary>Space-separated Message-IDs (without brackets) of the thread, oldest first.</summary>
    public string? References { get; set; }

    /// <summary>Sent by the system, not by a person: carries Auto-Submitted: auto-replied and counts against the loop cap.</summary>
    public bool Automatic { get; set; }

    /// <summary>
    /// For an acknowledgment: the keys (<see cref="ProDesk.Domain.Channels.Email.AutoReplyLimit.RepeatKey"/>) of the subject,
    /// without reply prefixes, and of the text of the mail it acknowledged; null for every other message. The loop breaker
    /// counts acknowledgments by them: repeats of one mail tightly, distinct mails loosely, surveys not at all.
    /// </summary>
    public long? AcknowledgedSubjectKey { get; set; }

    /// <inheritdoc cref="AcknowledgedSubjectKey"/>
    public long? AcknowledgedTextKey { get; set; }

    public OutboundState State { get; set; }

    public int Attempts { get; set; }

    public DateTime NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>
    /// A text's delivery as Twilio's status callbacks tell it (queued, sent, delivered, read, undelivered, failed), never
    /// moving back; null before the first callback and for mail.
    /// </summary>
    public string? ProviderStatus { get; set; }

    /// <summary>Twilio's ErrorCode of an undelivered or failed text (e.g. 30003 unreachable handset); null otherwise.</summary>
    public int? ProviderErrorCode { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? SentAt { get; set; }
}
