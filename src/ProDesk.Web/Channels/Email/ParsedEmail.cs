namespace ProDesk.Web.Channels.Email;

/// <summary>
/// One inbound email reduced to what the channel needs, every field already made safe to store and
/// show: addresses lower-cased, text free of control characters, HTML sanitized, file names
/// defused. Produced by <see cref="EmailParser"/>; the raw message stays the source of truth.
/// </summary>
public sealed record ParsedEmail
{
    /// <summary>The Message-ID without angle brackets (case kept: ids are compared as written); null when missing or garbage.</summary>
    public string? MessageId { get; init; }

    /// <summary>The first message id of In-Reply-To, normalised like <see cref="MessageId"/>.</summary>
    public string? InReplyTo { get; init; }

    /// <summary>In-Reply-To's further ids (a reply to several mails names each), at most <see cref="EmailParser.MaxInReplyTo"/> in all.</summary>
    public IReadOnlyList<string> AlsoInReplyTo { get; init; } = [];

    /// <summary>The ids of References, oldest first, without duplicates.</summary>
    public required IReadOnlyList<string> References { get; init; }

    public DateTimeOffset? Date { get; init; }

    /// <summary>
    /// The customer's address, lower-cased: the first usable From mailbox (else Sender, else Reply-To), or the one Reply-To
    /// mailbox when it names someone else (a contact form writing for a visitor); null when the mail names nobody usable.
    /// </summary>
    public string? FromAddress { get; init; }

    /// <summary>The decoded display name of that mailbox. It is whatever the sender typed (it may look like an address): show it beside <see cref="FromAddress"/>, never instead of it.</summary>
    public string? FromName { get; init; }

    /// <summary>The From mailbox, lower-cased, when the customer is Reply-To's instead (a contact form writing for a visitor); else null.</summary>
    public string? SentBy { get; init; }

    /// <summary>The display name of <see cref="SentBy"/>.</summary>
    public string? SentByName { get; init; }

    /// <summary>The first Reply-To mailbox, lower-cased.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>To, then Cc addresses, lower-cased, each once: the desk and whoever else the sender wrote to.</summary>
    public required IReadOnlyList<string> Addressed { get; init; }

    /// <summary>Delivered-To, X-Original-To and Envelope-To addresses, lower-cased, each once: where the mail was delivered, so ours.</summary>
    public required IReadOnlyList<string> DeliveredTo { get; init; }

    /// <summary>Every recipient address, each once: <see cref="Addressed"/>, then the rest of <see cref="DeliveredTo"/>.</summary>
    public IEnumerable<string> Recipients => Addressed.Union(DeliveredTo, StringComparer.Ordinal);

    /// <summary>Decoded, single line, at most 998 characters; "(no subject)" when empty.</summary>
    public required string Subject { get; init; }

    /// <summary>The text/plain body, or the text of the HTML body when there is only HTML; empty when neither.</summary>
    public required string TextBody { get; init; }

    /// <summary>The HTML body after <see cref="MailHtmlSanitizer"/>; null when the message has no HTML part.</summary>
    public string? HtmlBody { get; init; }

    public required IReadOnlyList<ParsedAttachment> Attachments { get; init; }

    /// <summary>The top-level headers in order, values decoded and unfolded, for the hygiene rules (auto-replies, lists, loops).</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    /// <summary>The Return-Path address lower-cased; "" for the null sender (&lt;&gt;, which bounces use); null when absent.</summary>
    public string? ReturnPath { get; init; }

    /// <summary>The text of the message/delivery-status part when the message is a multipart/report (a bounce); null otherwise.</summary>
    public string? DeliveryStatus { get; init; }

    /// <summary>A read receipt (RFC 8098: a multipart/report carrying a message/disposition-notification): machine mail, nothing to answer.</summary>
    public bool IsReadReceipt { get; init; }

    /// <summary>The value of the first header with that name (case-insensitive), or null.</summary>
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>
/// One attachment or inline part. <see cref="FileName"/> has been through <see cref="SafeFileName"/>,
/// so it can be shown and used in a Content-Disposition; it is still never a path to write to.
/// </summary>
public sealed record ParsedAttachment(string FileName, string ContentType, byte[] Content, string? ContentId, bool Inline);
