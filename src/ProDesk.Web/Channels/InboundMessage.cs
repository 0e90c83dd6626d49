namespace ProDesk.Web.Channels;

/// <summary>
/// One inbound message from any channel, normalised: what every adapter (API, email, web form, chat,
/// SMS, voice) turns its input into before the one ingestion path (<see cref="IngestMessage"/>).
/// </summary>
/// <param name="Channel">api, email, webform, chat, sms, whatsapp, voice.</param>
/// <param name="ExternalId">The channel's own id of this message (API externalId, mail dedupe key, SMS sid): ingesting it twice stores it once.</param>
public sealed record InboundMessage(string Channel, string ExternalId, string FromAddress, string? FromName, string Subject, string Body)
{
    /// <summary>Sanitized HTML of a mail; never raw.</summary>
    public string? HtmlBody { get; init; }

    /// <summary>The mail's Message-ID, which later replies reference.</summary>
    public string? InternetMessageId { get; init; }

    /// <summary>Message-IDs this message answers (In-Reply-To, then References from the newest).</summary>
    public IReadOnlyList<string> ThreadReferences { get; init; } = [];

    /// <summary>The mailbox that sent a mail for the customer (its From, when Reply-To named the customer); null when it was theirs.</summary>
    public string? SentBy { get; init; }

    /// <summary>Whom a mail also named besides the desk (<see cref="Domain.Channels.Email.MailCopies"/>); a reply-all goes to them too.</summary>
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>The item named by a verified reply token; it threads there whoever the sender is.</summary>
    public Guid? ThreadItemId { get; init; }

    /// <summary>
    /// The subject a "Re:" subject answers (API channel): the message continues the sender's latest item on the
    /// channel with exactly that subject, unless it is closed. Null when the subject answers nothing.
    /// </summary>
    public string? AnswersSubject { get; init; }

    /// <summary>Chat, SMS: a new message continues the contact's latest item on the channel unless it is closed.</summary>
    public bool ContinuesLatest { get; init; }

    /// <summary>The sender is identified by phone (SMS, WhatsApp, voice) rather than by email.</summary>
    public bool FromIsPhone { get; init; }

    /// <summary>
    /// Marked in any way as not for an automatic answer (an auto-reply, a list, bulk mail, a sender asking for no
    /// auto replies): no acknowledgment goes back to it.
    /// </summary>
    public bool Automatic { get; init; }

    /// <summary>
    /// Written by a machine answering (an out-of-office reply, a system sender): kept on the item it answers but it
    /// neither reopens it nor starts a response clock. A person answering from a list or with "no auto replies" set is not.
    /// </summary>
    public bool AutoReply { get; init; }

    /// <summary>
    /// Means nothing without what it answers (an out-of-office reply, a mail system's notice): it joins the item it
    /// answers, else the sender's latest open item on the channel, and starts no item of its own
    /// (<see cref="IngestMessage.NothingToJoinException"/>). Implies <see cref="AutoReply"/>.
    /// </summary>
    public bool OnlyJoins { get; init; }

    /// <summary>The queue to create the item in; the tenant's default queue when null.</summary>
    public string? QueueKey { get; init; }

    public Domain.WorkItems.WorkItemKind Kind { get; init; } = Domain.WorkItems.WorkItemKind.Conversation;

    public IReadOnlyList<InboundAttachment> Attachments { get; init; } = [];

    /// <summary>
    /// The adapter has already looked this external id up in a ledger of its own under the same key (email's
    /// <c>InboundMails</c>), so ingestion writes without probing first; the unique index still refuses a
    /// repeat, and the retry after it probes.
    /// </summary>
    public bool CheckedNew { get; init; }

    /// <summary>Ingestion's lookup, made ahead by the adapter with questions of its own (<see cref="IngestMessage.LookUpMailAsync"/>).</summary>
    public IngestMessage.LookedUp? LookedUp { get; init; }
}

/// <summary>A file that came with a message; <see cref="BlobId"/> names bytes already written to the tenant's blob folder.</summary>
public sealed record InboundAttachment(Guid BlobId, string FileName, string ContentType, long Length, byte[] Sha256);
