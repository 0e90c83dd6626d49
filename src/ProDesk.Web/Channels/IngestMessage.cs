using System.Net.Mail;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.Queues;
using ProDesk.Data.Sla;
using ProDesk.Data.Tenancy;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Contacts;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Realtime;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels;

/// <summary>
/// The one ingestion path (DESIGN.md "The flow of one message"): in one transaction, dedupe by the
/// channel's external id, find or create the contact, thread the message into its item or create one
/// in the queue, start or move its SLA clocks, record the change and append an outbox event. Runs
/// inside the tenant's scope, so threading can only ever find the tenant's own items.
/// </summary>
public sealed class IngestMessage(ProDeskDbContext db, ITenantContext tenants, SlaEngine sla, OutboxRelay relay, PushRouting routing, ProDeskPaths paths, TimeProvider clock)
{
    /// <summary>The item (new, threaded into, or the one already holding the external id), the key of its queue, and what happened.</summary>
    public sealed record Result(WorkItem Item, string QueueKey, bool Created, bool Duplicate = false, WorkItemMessage? Message = null);

    /// <summary>A message that <see cref="InboundMessage.OnlyJoins"/> found no item to join: nothing of it was stored.</summary>
    public sealed class NothingToJoinException() : Exception("The message answers no item and starts none.");

    /// <summary>
    /// Stores <paramref name="message"/>. <paramref name="alsoSave"/> adds the channel's own rows (a mail's
    /// ledger entry, an acknowledgment) to the same transaction; it runs again if a race makes the first attempt lose.
    /// </summary>
    public async Task<Result> HandleAsync(InboundMessage message, Action<Result>? alsoSave = null, CancellationToken cancellationToken = default)
    {
        Result result;
        try
        {
            result = await StoreAsync(message, alsoSave, cancellationToken);
        }
        catch
        {
            ForgetFiles(message);
            throw;
        }

        if (result.Duplicate)
        {
            // The same message was stored before, with files of its own.
            ForgetFiles(message);
        }

        return result;
    }

    /// <summary>
    /// Deletes the files a channel wrote for a message that is not stored (its write failed, or it was there already):
    /// nothing refers to them, and a gateway's retries of a large mail would pile copies up on disk.
    /// </summary>
    private void ForgetFiles(InboundMessage message)
    {
        if (message.Attachments.Count > 0 && tenants.Current?.Id is { } tenantId)
        {
            Attachments.DeleteBlobs(paths, tenantId, message.Attachments.Select(a => a.BlobId));
        }
    }

    private async Task<Result> StoreAsync(InboundMessage message, Action<Result>? alsoSave, CancellationToken cancellationToken)
    {
        message = WithoutNul(message);
        var sender = message.ContinuesLatest ? $"{tenants.Current?.Id}:{message.Channel}:{message.FromAddress}" : null;
        using var oneAtATime = sender is null ? null : await KeyedLock.WaitAsync(sender, cancellationToken);

        // One connection for every read and the write: each open of a pooled connection costs a reset and
        // the tenant's row-level-security setting, twice the round trips of the queries themselves.
        return await db.Database.OnOneConnectionAsync(async () =>
        {
            await using var acrossNodes = sender is null ? null : await KeyedLock.HoldAcrossNodesAsync(db, sender, cancellationToken);

            // A unique-index race (the same external id, or a new contact arriving twice at once) or an agent
            // saving the same item loses the write; the next attempt finds what the winner wrote. An item others keep
            // saving (agents' notes, a merge) gets more attempts, spread out, before the caller is told to send again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await TryOnceAsync(message, alsoSave, probe: attempt > 1 || !message.CheckedNew, cancellationToken);
                }
                catch (DbUpdateException e) when (attempt < (e is DbUpdateConcurrencyException ? MaxAttemptsOnBusyItem : 3))
                {
                    db.ChangeTracker.Clear();
                    if (e is DbUpdateConcurrencyException)
                    {
                        await Contention.BackOffAsync(attempt, cancellationToken);
                    }
                }
            }
        }, cancellationToken);
    }

    private const int MaxAttemptsOnBusyItem = 10;

    public Task<Result> HandleAsync(InboundMessage message, CancellationToken cancellationToken) => HandleAsync(message, null, cancellationToken);

    /// <summary>
    /// PostgreSQL text cannot hold NUL, and a 500 would lose the message: each channel cleans what people type
    /// (<see cref="PlainText"/>), and this is the wall behind them for every channel to come.
    /// </summary>
    private static InboundMessage WithoutNul(InboundMessage message)
    {
        static string Drop(string value) => value.Contains('\0', StringComparison.Ordinal) ? value.Replace("\0", "", StringComparison.Ordinal) : value;
        return message.Subject.Contains('\0', StringComparison.Ordinal) || message.Body.Contains('\0', StringComparison.Ordinal)
            || message.FromAddress.Contains('\0', StringComparison.Ordinal) || (message.FromName?.Contains('\0', StringComparison.Ordinal) ?? false)
            || (message.HtmlBody?.Contains('\0', StringComparison.Ordinal) ?? false)
            ? message with
            {
                Subject = Drop(message.Subject), Body = Drop(message.Body), FromAddress = Drop(message.FromAddress),
                FromName = message.FromName is null ? null : Drop(message.FromName), HtmlBody = message.HtmlBody is null ? null : Drop(message.HtmlBody),
            }
            : message;
    }

    /// <summary>
    /// The key a message's external id is stored under: one namespace per channel, but SMS and WhatsApp share Twilio's
    /// one MessageSid space, so a SID is one message whichever of them it arrives as (keys written before this, as
    /// "whatsapp:SID", are only missed by a redelivery across the upgrade).
    /// </summary>
    public static string MessageKey(InboundMessage message) => $"{(message.Channel == "whatsapp" ? "sms" : message.Channel)}:{message.ExternalId}";

    private async Task<Result> TryOnceAsync(InboundMessage message, Action<Result>? alsoSave, bool probe, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var tenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Ingestion runs in one tenant's scope.");
        var known = await LookUpAsync(message, tenantId, probe, cancellationToken);
        if (known.Seen && await FindAsync(message, cancellationToken) is { } existing)
        {
            return existing;
        }

        var sender = known.Sender ?? NewContact(message, tenantId, now);
        if (known.Sender is not null)
        {
            await LearnNameAsync(message, sender, cancellationToken);
        }

        var inbound = new WorkItemMessage
        {
            Id = Guid.CreateVersion7(),
            Kind = MessageKind.Inbound,
            AuthorName = ColumnText.Fit(string.IsNullOrWhiteSpace(message.FromName) ? sender.Name : message.FromName.Trim(), 320),
            Body = message.Body,
            HtmlBody = message.HtmlBody,
            FromAddress = ColumnText.Fit(message.FromAddress, 320),
            SentBy = message.SentBy is { } sentBy ? ColumnText.Fit(sentBy, 320) : null,
            InternetMessageId = message.InternetMessageId is { Length: <= 998 } id ? id : null,
            Cc = Domain.Channels.Email.MailCopies.Join([.. message.Cc]),
            ExternalId = MessageKey(message),
            Automatic = message.AutoReply,
            CreatedAt = now,
        };

        Queue? newItemsQueue = null;
        var (result, closed) = await ThreadAsync(message, sender.Id, inbound, now, cancellationToken);
        if (result is null && message.OnlyJoins)
        {
            throw new NothingToJoinException();
        }

        if (result is null)
        {
            newItemsQueue = known.Queue;
            result = await CreateAsync(message, tenantId, newItemsQueue, known.Policy, sender.Id, closed, inbound, now, cancellationToken);
        }

        AddAttachments(db, message.Attachments, result.Item, inbound, now);
        alsoSave?.Invoke(result);

        // One SaveChanges is one transaction: contact, item, message, clocks, change and outbox event land together or not at all.
        await SaveAsync(message, cancellationToken);
        relay.Wake();
        if (newItemsQueue is not null)
        {
            // Push queues assign at once; after the commit, so a routing failure never loses the message.
            result.Item.AssigneeId = await routing.RouteAsync(result.Item, newItemsQueue, cancellationToken) ?? result.Item.AssigneeId;
        }

        return result;
    }

    /// <summary>
    /// Attachments up to which a new item's rows go through <see cref="InsertOnlySave"/>: far below the provider's
    /// limits (1,000 statements, 65,535 parameters a statement), so a message's rows always fit the batch.
    /// </summary>
    private const int MaxAttachmentsInOneBatch = 100;

    /// <summary>
    /// A new item's rows are all inserts: on PostgreSQL they go as one batch of INSERTs made once per table, together
    /// with other messages' rows arriving at the same moment (decisions 64 and 69). Anything else, such as a follow-up
    /// that changes its item, is saved by EF Core in a transaction of its own: when another request changed the item
    /// first, the item's version check must roll back the whole save. Sent as one batch without a transaction, the
    /// other rows were committed even then (an UPDATE that matches no row is no error to PostgreSQL), and follow-ups
    /// arriving at once started the item's clocks and escalated it once each (probe round 10).
    /// </summary>
    private async Task SaveAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Attachments.Count <= MaxAttachmentsInOneBatch && db.Database.CurrentTransaction is null
            && await InsertOnlySave.TrySaveAsync(db, cancellationToken))
        {
            return;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private const int MaxThreadReferences = 20;

    /// <summary>Every inbound item starts at this priority (escalations and agents raise it later).</summary>
    private const WorkItemPriority NewItemPriority = WorkItemPriority.Normal;

    /// <param name="followsUp">The closed item the message answers (found in this tenant's scope), which the new item follows up; null for none.</param>
    private async Task<Result> CreateAsync(
        InboundMessage message, Guid tenantId, Queue queue, SlaPolicy? policy, Guid contactId, WorkItem? followsUp, WorkItemMessage inbound, DateTime now, CancellationToken cancellationToken)
    {
        var item = new WorkItem
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Kind = message.Kind,
            Status = WorkItemStatus.Open,
            Priority = NewItemPriority,
            QueueId = queue.Id,
            Subject = ColumnText.Shorten(message.Subject, 400),
            Channel = message.Channel,
            ExternalId = message.Channel == "api" ? message.ExternalId : null,
            ContactId = contactId,
            FollowUpOfId = followsUp is { } earlier && earlier.TenantId == tenantId ? earlier.Id : null,
            CreatedAt = now,
            UpdatedAt = now,
            Messages = [inbound],
        };
        db.WorkItems.Add(item);
        await sla.StartAsync(item, policy, now, cancellationToken);
        WorkItemTrail.Changed(db, item.Id, item.TenantId, now, null, inbound.FromAddress, "created", null, item.Status.ToString());
        // Every row names its tenant here: one the save guard has to stamp costs the insert-only save a second pass over the tracked rows.
        db.OutboxEvents.Add(new OutboxEvent { TenantId = tenantId, Type = "WorkItemCreated", PayloadJson = JsonSerializer.Serialize(new { item.Id, item.Subject, item.Channel }), CreatedAt = now });
        return new Result(item, queue.Key, Created: true, Message: inbound);
    }

    /// <summary>
    /// A follow-up joins its item: one named by a verified reply token; one holding a message it
    /// answers (our own replies' Message-IDs are unguessable, so any sender may answer them; a
    /// customer's own earlier mail only threads for that same customer); or, for chat and SMS, the
    /// contact's latest item on the channel. A closed item is never reopened: the message starts a new one, which
    /// follows it up (<c>Closed</c>, read with what threading reads anyway: a new mail or an answer to an open item asks nothing more).
    /// </summary>
    private async Task<(Result? Joined, WorkItem? Closed)> ThreadAsync(InboundMessage message, Guid contactId, WorkItemMessage inbound, DateTime now, CancellationToken cancellationToken)
    {
        WorkItem? item = null;
        if (message.ThreadItemId is { } tokenItem)
        {
            item = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == tokenItem, cancellationToken);
        }

        // Newest first, bounded; the oldest (the thread's root, which the first mail of the item carried) always
        // joins, or a long thread would start a new item once its root fell off the end.
        var references = message.ThreadReferences.Count <= MaxThreadReferences
            ? [.. message.ThreadReferences]
            : message.ThreadReferences.Take(MaxThreadReferences - 1).Append(message.ThreadReferences[^1]).ToList();
        if (item is null && references.Count > 0)
        {
            // Mail we sent (replies, acknowledgments, CSAT requests) names its item directly.
            var oursFor = await db.OutboundMessages.AsNoTracking()
                .Where(o => o.InternetMessageId != null && references.Contains(o.InternetMessageId))
                .OrderByDescending(o => o.CreatedAt).Select(o => (Guid?)o.WorkItemId).FirstOrDefaultAsync(cancellationToken);
            item = oursFor is { } ourItem ? await db.WorkItems.FirstOrDefaultAsync(w => w.Id == ourItem, cancellationToken) : null;
        }

        if (item is null && references.Count > 0)
        {
            var answered = await db.WorkItemMessages.AsNoTracking()
                .Where(m => m.InternetMessageId != null && references.Contains(m.InternetMessageId))
                .Select(m => new { m.WorkItemId, m.Kind, m.CreatedAt, m.Cc })
                .OrderByDescending(m => m.CreatedAt)
                .ToListAsync(cancellationToken);
            foreach (var candidate in answered)
            {
                var found = await db.WorkItems.FirstOrDefaultAsync(w => w.Id == candidate.WorkItemId, cancellationToken);
                if (found is not null && (candidate.Kind != MessageKind.Inbound || found.ContactId == contactId
                    || await WasCopiedAsync(message.FromAddress, candidate.Cc, found.Id, cancellationToken)))
                {
                    item = found;
                    break;
                }
            }
        }

        // Chat and SMS continue the contact's latest open item on the channel; an API "Re:" subject, the latest with
        // the subject it answers; an out-of-office reply that names no mail (Exchange's does not), the latest too.
        // Without an open one, the latest closed one, in the same query: the new item follows it up.
        if (item is null && contactId != Guid.Empty && (message.ContinuesLatest || message.AnswersSubject is not null || message.OnlyJoins))
        {
            var latest = db.WorkItems.Where(w => w.ContactId == contactId && w.Channel == message.Channel);
            if (message.AnswersSubject is { } answeredSubject)
            {
                var itsSubject = ColumnText.Shorten(answeredSubject, 400);
                latest = latest.Where(w => w.Subject == itsSubject);
            }

            var found = await latest.OrderBy(w => w.Status == WorkItemStatus.Closed ? 1 : 0).ThenByDescending(w => w.CreatedAt).FirstOrDefaultAsync(cancellationToken);
            if (found is { Status: WorkItemStatus.Closed })
            {
                // Not followed into a merge target: this rule never joined a closed item, merged or not, and still does not.
                return (null, found);
            }

            item = found;
        }

        if (item is { Status: WorkItemStatus.Closed })
        {
            // A conversation merged into another threads its follow-ups there (MergeConversations).
            item = await MergeConversations.MergedTargetAsync(db, item, cancellationToken) ?? item;
        }

        if (item is null || item.Status == WorkItemStatus.Closed)
        {
            return (null, item);
        }

        inbound.WorkItemId = item.Id;
        inbound.TenantId = item.TenantId;
        db.WorkItemMessages.Add(inbound);
        item.UpdatedAt = now;
        var queueKey = await db.Queues.Where(q => q.Id == item.QueueId).Select(q => q.Key).FirstAsync(cancellationToken);
        var before = item.Status;
        if (message.AutoReply)
        {
            // An auto-reply on the thread is worth keeping, not worth anyone's attention.
            return (new Result(item, queueKey, Created: false, Message: inbound), null);
        }

        if (before != WorkItemStatus.Open)
        {
            // The customer wrote: the item is theirs to answer again.
            WorkItemTrail.Changed(db, item.Id, item.TenantId, now, null, inbound.FromAddress, "status", before.ToString(), WorkItemStatus.Open.ToString());
            item.Status = WorkItemStatus.Open;
        }

        await sla.UpdateAsync(item, new SlaChange(CustomerWrote: true, StatusFrom: before), now, cancellationToken);
        WorkItemTrail.Updated(db, item, now);
        return (new Result(item, queueKey, Created: false, Message: inbound), null);
    }

    /// <summary>
    /// Whether <paramref name="sender"/> was among the recipients of the customer's mail it answers, or of any mail on
    /// its item: a colleague the customer copied knows the Message-ID legitimately, so their reply-all joins the item
    /// instead of opening a second one with a second acknowledgment (probe round 19). A stranger who only learned an id
    /// still starts an item of their own, and the tenant's query filter keeps every item looked at in this tenant.
    /// </summary>
    private async Task<bool> WasCopiedAsync(string sender, string? referencedCopies, Guid itemId, CancellationToken cancellationToken)
    {
        var address = sender.Trim();
        if (address.Length == 0)
        {
            return false;
        }

        bool Names(string? copies) => Domain.Channels.Email.MailCopies.Split(copies).Contains(address, StringComparer.OrdinalIgnoreCase);
        if (Names(referencedCopies))
        {
            return true;
        }

        // LIKE narrows the rows (case as stored: addresses are kept lower-cased); the exact check is on the split list.
        var lowered = address.ToLowerInvariant();
        var copiesOnItem = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == itemId && m.Kind == MessageKind.Inbound && m.Cc != null && m.Cc.Contains(lowered))
            .Select(m => m.Cc).Take(20).ToListAsync(cancellationToken);
        return copiesOnItem.Any(Names);
    }

    /// <summary>The rows of <paramref name="files"/>, already written as blobs, brought by <paramref name="inbound"/> on <paramref name="item"/>; the caller saves.</summary>
    internal static void AddAttachments(ProDeskDbContext db, IEnumerable<InboundAttachment> files, WorkItem item, WorkItemMessage inbound, DateTime now)
    {
        foreach (var file in files)
        {
            db.WorkItemAttachments.Add(new WorkItemAttachment
            {
                Id = file.BlobId,
                TenantId = item.TenantId,
                WorkItemId = item.Id,
                WorkItemMessageId = inbound.Id,
                FileName = file.FileName,
                ContentType = file.ContentType,
                Length = file.Length,
                Sha256 = file.Sha256,
                CreatedAt = now,
            });
        }
    }

    /// <summary>What ingestion reads before it writes, in one round trip (it used to take three).</summary>
    /// <param name="Seen">A message holds the external id already (only looked for when probing).</param>
    /// <param name="Sender">The sender's contact, by email address or phone number; null when new.</param>
    /// <param name="Queue">The queue a new item goes to: the one named, else the tenant's default.</param>
    /// <param name="Policy">That queue's current SLA policy for new items' priority.</param>
    internal sealed record Known(bool Seen, Sender? Sender, Queue Queue, SlaPolicy? Policy);

    /// <summary>The contact a message comes from: what threading and the message's author name need of it.</summary>
    internal sealed record Sender(Guid Id, string Name);

    /// <summary>
    /// A lookup made ahead by an adapter (<see cref="LookUpMailAsync"/>), handed in with its message
    /// (<see cref="InboundMessage.LookedUp"/>): ingestion's first attempt uses it instead of asking again, if it was made
    /// for the same tenant, sender and queue. A retry after a lost race asks again.
    /// </summary>
    public sealed class LookedUp
    {
        private readonly (Guid TenantId, string? Email, string? Phone, string? QueueKey) madeFor;

        internal LookedUp(Guid tenantId, string? email, string? phone, string? queueKey, Known known)
        {
            madeFor = (tenantId, email, phone, queueKey);
            Known = known;
        }

        internal Known Known { get; }

        internal bool IsFor(Guid tenantId, string? email, string? phone, string? queueKey) => madeFor == (tenantId, email, phone, queueKey);
    }

    /// <summary>What email's own ledger and loop breaker ask of every new mail (<see cref="LookUpMailAsync"/>).</summary>
    /// <param name="Source">The mail's way in (the route, or a mailbox's key) and its <paramref name="DedupeKey"/>: its row in the mail ledger, if any.</param>
    /// <param name="ReplyAddress">The sender as acknowledgments and suppressions name it (null when it cannot be answered).</param>
    /// <param name="AutomaticSince">Acknowledgments to the sender from this moment on are counted.</param>
    /// <param name="SubjectKey">The mail's subject, without reply prefixes, as acknowledgments keep it (<see cref="Domain.Channels.Email.AutoReplyLimit.RepeatKey"/>).</param>
    /// <param name="TextKey">The mail's text, likewise.</param>
    public sealed record MailQuestions(string Source, string DedupeKey, string? ReplyAddress, DateTime AutomaticSince, long? SubjectKey = null, long? TextKey = null);

    /// <param name="SeenId">The same mail's ledger row.</param>
    /// <param name="RecentAcknowledgments">Acknowledgments the sender got from us since <see cref="MailQuestions.AutomaticSince"/> (never surveys).</param>
    /// <param name="RecentRepeats">Those of them that answered a mail with the same subject or text as this one.</param>
    /// <param name="Suppressed">The sender's address is suppressed after a permanent bounce.</param>
    /// <param name="LookedUp">The lookup for the mail's message, to hand in with it; null for a mail without a usable sender.</param>
    public sealed record MailAnswers(Guid? SeenId, int RecentAcknowledgments, int RecentRepeats, bool Suppressed, LookedUp? LookedUp);

    /// <summary>
    /// Email's first questions and ingestion's lookup for a mail from <paramref name="fromAddress"/> into the current
    /// tenant's default queue, in one round trip (decision 76): both were asked of every mail, one after the other.
    /// </summary>
    public async Task<MailAnswers> LookUpMailAsync(string? fromAddress, MailQuestions questions, CancellationToken cancellationToken)
    {
        var tenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Mail is looked up inside one tenant's scope.");
        // PostgreSQL text cannot hold NUL (an IMAP envelope's sender is not parsed): such a sender is looked up as none.
        var email = fromAddress is null || fromAddress.Contains('\0', StringComparison.Ordinal) ? null : EmailOf(fromAddress);
        // Without one, an empty address: it matches no contact by its index (a null one would ask for contacts without a phone).
        var found = await LookUpAsync(tenantId, email ?? "", phone: null, national: null, queueKey: null, key: null, questions, cancellationToken);
        return new MailAnswers(found.MailSeenId, found.RecentAcknowledgments, found.RecentRepeats, found.Suppressed,
            email is null ? null : new LookedUp(tenantId, email, null, null, KnownOf(found)));
    }

    private async Task<Known> LookUpAsync(InboundMessage message, Guid tenantId, bool probe, CancellationToken cancellationToken)
    {
        var (email, phone) = SenderOf(message);
        if (!probe && message.LookedUp is { } ahead && ahead.IsFor(tenantId, email, phone, message.QueueKey))
        {
            return ahead.Known;
        }

        // A contact saved before national numbers were completed to E.164 holds "0612345678" for the text's +33612345678.
        var national = phone is null ? null : PhoneNumber.NationalDigits(phone, PhoneRegion.OfTimeZone(tenants.Current?.TimeZone));
        return KnownOf(await LookUpAsync(tenantId, email, phone, national, message.QueueKey, probe ? MessageKey(message) : null, mail: null, cancellationToken));
    }

    /// <summary>
    /// Runs <see cref="LookUp"/>. Every tenant has a default queue (the seed refuses one without), so there is always a row.
    /// </summary>
    private Task<Found> LookUpAsync(Guid tenantId, string? email, string? phone, string? national, string? queueKey, string? key, MailQuestions? mail, CancellationToken cancellationToken) =>
        LookUp.For(db)(db, tenantId, email, phone, national, queueKey, key, NewItemPriority.ToString(),
            mail?.Source, mail?.DedupeKey, mail?.ReplyAddress, mail?.AutomaticSince ?? DateTime.MinValue, mail?.SubjectKey, mail?.TextKey, cancellationToken);

    private static Known KnownOf(Found found) => new(found.Seen, found.SenderId is { } id ? new Sender(id, found.SenderName!) : null, found.Queue, found.Policy);

    /// <summary>A row of <see cref="LookUp"/>, made into <see cref="Known"/> (and, for a mail, <see cref="MailAnswers"/>).</summary>
    private sealed class Found
    {
        public required Queue Queue { get; init; }

        public SlaPolicy? Policy { get; init; }

        public Guid? SenderId { get; init; }

        public string? SenderName { get; init; }

        public bool Seen { get; init; }

        public Guid? MailSeenId { get; init; }

        public int RecentAcknowledgments { get; init; }

        public int RecentRepeats { get; init; }

        public bool Suppressed { get; init; }
    }

    // Compiled once: every message runs it, and building, hashing and looking up its expression tree cost the app more
    // CPU than PostgreSQL spends answering it. EF Core makes its SQL per null pattern of the parameters, so a sender
    // known by email compares only the email column and one known by phone only the phone (each its plain index).
    // By tenant equality (OneTenantQueries), so PostgreSQL plans it once per connection, not on every message.
    // Without a queue key, `q.Key == queueKey` matches nothing and the default queue is the only candidate.
    // Scalar subqueries rather than rows: SQLite has no LATERAL join. Without a mail's questions (any other channel) the
    // mail ledger's columns compare with null and match nothing. A phone also matches its national spelling, when the
    // tenant's country gives one (contacts saved before numbers were completed to E.164); without one that test goes.
    // A contact's further identities (ContactIdentities: a merge's, staff's) are asked only when its own columns match
    // none: PostgreSQL evaluates COALESCE's second subquery only then, so a known sender costs what it did.
    // The loop breaker's two counts read the same rows of the recipient's automatic-mail index; only acknowledgments carry
    // keys, so surveys count in neither.
    private static readonly CompiledPerModel<Func<ProDeskDbContext, Guid, string?, string?, string?, string?, string?, string, string?, string?, string?, DateTime, long?, long?, CancellationToken, Task<Found>>> LookUp = new(() =>
        EF.CompileAsyncQuery((ProDeskDbContext db, Guid tenantId, string? email, string? phone, string? national, string? queueKey, string? key, string priority,
                string? mailSource, string? mailKey, string? replyAddress, DateTime automaticSince, long? subjectKey, long? textKey, CancellationToken cancellationToken) =>
            db.Queues.IgnoreQueryFilters(new[] { ProDeskDbContext.TenantFilter }).AsNoTracking()
                .Where(q => q.TenantId == tenantId && (q.Key == queueKey || q.IsDefault))
                .OrderBy(q => q.Key == queueKey ? 0 : 1)
                .Select(q => new Found
                {
                    Queue = q,
                    Policy = db.SlaPolicies.Where(p => p.TenantId == tenantId && p.QueueKey == q.Key && p.Priority == priority).OrderByDescending(p => p.Version).FirstOrDefault(),
                    SenderId = db.Contacts.Where(c => c.TenantId == tenantId && (email != null ? c.Email == email : (c.Phone == phone || (national != null && c.Phone == national)))).Select(c => (Guid?)c.Id).FirstOrDefault()
                        ?? db.ContactIdentities.Where(i => i.TenantId == tenantId && (email != null ? i.Kind == ContactIdentity.EmailKind && i.Value == email : i.Kind == ContactIdentity.PhoneKind && (i.Value == phone || (national != null && i.Value == national)))).Select(i => (Guid?)i.ContactId).FirstOrDefault(),
                    SenderName = db.Contacts.Where(c => c.TenantId == tenantId && (email != null ? c.Email == email : (c.Phone == phone || (national != null && c.Phone == national)))).Select(c => c.Name).FirstOrDefault()
                        ?? db.Contacts.Where(c => c.TenantId == tenantId && db.ContactIdentities.Any(i => i.ContactId == c.Id && i.TenantId == tenantId && (email != null ? i.Kind == ContactIdentity.EmailKind && i.Value == email : i.Kind == ContactIdentity.PhoneKind && (i.Value == phone || (national != null && i.Value == national))))).Select(c => c.Name).FirstOrDefault(),
                    Seen = key != null && db.WorkItemMessages.Any(m => m.TenantId == tenantId && m.ExternalId == key),
                    MailSeenId = db.InboundMails.Where(m => m.TenantId == tenantId && m.Source == mailSource && m.DedupeKey == mailKey).Select(m => (Guid?)m.Id).FirstOrDefault(),
                    RecentAcknowledgments = db.OutboundMessages.Count(o => o.TenantId == tenantId && o.Automatic && o.To == replyAddress && o.CreatedAt > automaticSince
                        && o.AcknowledgedTextKey != null),
                    RecentRepeats = db.OutboundMessages.Count(o => o.TenantId == tenantId && o.Automatic && o.To == replyAddress && o.CreatedAt > automaticSince
                        && ((subjectKey != null && o.AcknowledgedSubjectKey == subjectKey) || (textKey != null && o.AcknowledgedTextKey == textKey))),
                    Suppressed = db.EmailSuppressions.Any(s => s.TenantId == tenantId && s.Address == replyAddress),
                })
                .First()));

    private async Task<Result?> FindAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        // Only once the lookup saw the external id (a repeat): the stored message, its item and the item's queue.
        var key = MessageKey(message);
        var seen = await db.WorkItemMessages.AsNoTracking().Where(m => m.ExternalId == key).Select(m => new { m.Id, m.WorkItemId }).FirstOrDefaultAsync(cancellationToken);
        if (seen is null)
        {
            return null;
        }

        var found = await (
            from w in db.WorkItems.AsNoTracking()
            where w.Id == seen.WorkItemId
            join q in db.Queues.AsNoTracking() on w.QueueId equals q.Id
            select new { Item = w, QueueKey = q.Key }).FirstAsync(cancellationToken);
        var stored = await db.WorkItemMessages.AsNoTracking().FirstAsync(m => m.Id == seen.Id, cancellationToken);
        return new Result(found.Item, found.QueueKey, Created: false, Duplicate: true, Message: stored);
    }

    /// <summary>How the sender is known: by email address, or by phone number (the other is null).</summary>
    private static (string? Email, string? Phone) SenderOf(InboundMessage message) =>
        message.FromIsPhone ? (null, PhoneOf(message)) : (EmailOf(message.FromAddress), null);

    private static string PhoneOf(InboundMessage message) => ColumnText.Fit(message.FromAddress.Trim(), 32);

    private static string EmailOf(string fromAddress) =>
        ColumnText.Fit(MailAddress.TryCreate(fromAddress, out var address) ? address.Address.ToLowerInvariant() : fromAddress, 320);

    /// <summary>
    /// A contact first known by a mail without a display name is named by its address; the person's first mail that brings
    /// a name gives it (probe round 20: replies went to <c>"a2@x.example" &lt;a2@x.example&gt;</c> for good). Only a person's
    /// mail (a list writes "Ann via Team"), and only over the address, never over a name staff or the sender gave. Written
    /// at once and guarded by the old name, so a staff edit at the same moment wins, and counted as an edit (the ETag moves).
    /// </summary>
    private async Task LearnNameAsync(InboundMessage message, Sender sender, CancellationToken cancellationToken)
    {
        var (email, _) = SenderOf(message);
        if (message.Automatic || email is null || !Domain.Channels.Email.DisplayName.IsAddress(sender.Name, email)
            || Domain.Channels.Email.DisplayName.Of(message.FromName, email) is not { } name)
        {
            return;
        }

        var fitted = ColumnText.Fit(name, 200);
        var old = sender.Name;
        await db.Contacts.Where(c => c.Id == sender.Id && c.Name == old)
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.Name, fitted).SetProperty(c => c.Version, c => c.Version + 1), cancellationToken);
    }

    /// <summary>A contact for a sender not seen before, one per tenant across email and phone identities.</summary>
    private Sender NewContact(InboundMessage message, Guid tenantId, DateTime now)
    {
        var (email, phone) = SenderOf(message);
        var name = string.IsNullOrWhiteSpace(message.FromName) ? email ?? phone! : message.FromName.Trim();
        var contact = new Contact { Id = Guid.CreateVersion7(), TenantId = tenantId, Name = ColumnText.Fit(name, 200), Email = email, Phone = phone, CreatedAt = now };
        db.Contacts.Add(contact);
        return new Sender(contact.Id, contact.Name);
    }
}
