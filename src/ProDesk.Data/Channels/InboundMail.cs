using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

public enum InboundMailState
{
    /// <summary>Became a message on a work item.</summary>
    Ingested,

    /// <summary>Deliberately not a message: our own mail coming back, a bounce (which suppresses its address).</summary>
    Dropped,

    /// <summary>Could not be parsed or was too large: kept raw for provider admins to look at and reprocess.</summary>
    Quarantined,
}

/// <summary>
/// The ledger of every raw mail accepted, by the route or from a mailbox: the dedupe key
/// (tenant, source, Message-ID or a hash of the raw bytes), where the raw bytes are kept, and what
/// became of it. Written in the same transaction as the message it produced, so a mail is either
/// fully taken in or not at all, and a re-fetch after a crash finds it here.
/// </summary>
public sealed class InboundMail : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>"route" for the inbound MIME route, else the mailbox key.</summary>
    public required string Source { get; set; }

    /// <summary>The Message-ID, or "sha256:{hex}" of the raw bytes when it has none.</summary>
    public required string DedupeKey { get; set; }

    /// <summary>SHA-256 (hex) of the raw bytes: the blob's name under the tenant's raw-mail folder.</summary>
    public required string RawSha256 { get; set; }

    public long Size { get; set; }

    public InboundMailState State { get; set; }

    public string? Reason { get; set; }

    public string? Subject { get; set; }

    public string? FromAddress { get; set; }

    public Guid? WorkItemId { get; set; }

    public DateTime ReceivedAt { get; set; }

    /// <summary>
    /// When the retention job deleted the raw bytes (<c>Email:RawRetentionDays</c> after <see cref="ReceivedAt"/>); null
    /// while they are kept. The row stays: it is the dedupe key, and says what became of the mail.
    /// </summary>
    public DateTime? RawRemovedAt { get; set; }
}
