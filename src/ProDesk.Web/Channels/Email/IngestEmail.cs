using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Tenancy;
using ProDesk.Domain.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// One raw mail into the tenant's desk, whether posted to the inbound route or fetched from a
/// mailbox. In order: the raw bytes go to disk; mail seen before (same source and Message-ID, or the
/// same bytes) is answered from the ledger; unparseable or oversized mail is quarantined; our own
/// mail coming back and delivery reports are dropped (a permanent bounce suppresses its address);
/// anything else is threaded or becomes a conversation through <see cref="IngestMessage"/>, with its
/// ledger row and, for a new conversation from a person, the acknowledgment in the same transaction.
/// </summary>
public sealed class IngestEmail(
    ProDeskDbContext db, IngestMessage ingest, RawMailStore rawStore, ProDeskPaths paths, ITenantContext tenants,
    OutboundDispatcher dispatcher, IOptions<EmailOptions> options, IOptions<SmtpOptions> smtp, ChannelSettingsCache channelSettings, TimeProvider clock,
    UndeliveredReplies undelivered, IConfiguration configuration)
{
    /// <summary>A mail's files in total, as an upload's (<c>Attachments:MaxBytes</c>); files past it are left out with a note.</summary>
    private long MaxAttachmentBytes => configuration.GetValue("Attachments:MaxBytes", 25L * 1024 * 1024);

    public const string RouteSource = "route";

    public enum Outcome
    {
        Created,
        Threaded,
        Duplicate,
        Dropped,
        Quarantined,

        /// <summary>Only from <see cref="ReprocessAsync"/>: the mail cannot be taken in (its reason says why); nothing changed.</summary>
        Refused,
    }

    public sealed record Result(Outcome Outcome, Guid MailId, Guid? WorkItemId, string? Reason = null);

    /// <param name="settings">The tenant's channel settings when the caller already read them (the route, to check the key); null to read them here.</param>
    public async Task<Result> HandleAsync(string source, byte[] raw, ChannelSettings? settings, CancellationToken cancellationToken)
    {
        var tenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Mail is taken in inside one tenant's scope.");
        // One connection for the whole mail (ingestion's statements join it).
        return await db.Database.OnOneConnectionAsync(() => TakeInNewAsync(source, raw, settings, tenantId, cancellationToken), cancellationToken);
    }

    private async Task<Result> TakeInNewAsync(string source, byte[] raw, ChannelSettings? settings, Guid tenantId, CancellationToken cancellationToken)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(raw));
        var (parsed, failure) = Parse(raw, options.Value.MaxBytes, MaxAttachmentBytes);
        parsed = await UnlessToADeskAsync(parsed, cancellationToken);
        var result = await TakeInOnceAsync(source, raw, sha256, parsed, failure, settings, tenantId, cancellationToken);
        if (result.Outcome == Outcome.Duplicate && parsed?.MessageId is not null
            && await db.InboundMails.AsNoTracking().Where(m => m.Id == result.MailId).Select(m => m.RawSha256).FirstOrDefaultAsync(cancellationToken) != sha256)
        {
            // Other bytes under this Message-ID, taken in at this very moment, won the key before the look at what they
            // say could be made (probe round 11: a scanner's pages sent at once were answered "duplicate" but one).
            // Looked at again now, a different mail is taken in under its bytes too; the same mail stays a duplicate.
            result = await TakeInOnceAsync(source, raw, sha256, parsed, failure, settings, tenantId, cancellationToken);
        }

        return result;
    }

    private async Task<Result> TakeInOnceAsync(
        string source, byte[] raw, string sha256, ParsedEmail? parsed, string? failure, ChannelSettings? settings, Guid tenantId, CancellationToken cancellationToken)
    {
        var dedupeKey = parsed?.MessageId is { Length: > 0 and <= 900 } id ? id : $"sha256:{sha256}";
        var probe = await ProbeAsync(source, dedupeKey, parsed, cancellationToken);
        if (probe.SeenId is { } seenId && parsed?.MessageId is not null
            && await db.InboundMails.AsNoTracking().Where(m => m.Id == seenId).Select(m => new { m.FromAddress, m.RawSha256 }).FirstAsync(cancellationToken) is var seen
            && seen.RawSha256 != sha256
            && (!string.Equals(seen.FromAddress, parsed.FromAddress, StringComparison.OrdinalIgnoreCase)
                || await SaysOtherwiseAsync(source, dedupeKey, parsed, cancellationToken)))
        {
            // Another sender's different mail under a Message-ID already seen (a client that reuses ids, or a copy
            // meant to suppress the real one), or the same sender's with other words (web-form mailers and scanners
            // reuse one id): not the same mail, so it is keyed by its bytes too, and taken in. The same mail come
            // again by another route differs only in its headers, and stays a duplicate.
            dedupeKey = $"{dedupeKey}#sha256:{sha256}";
            probe = await ProbeAsync(source, dedupeKey, parsed, cancellationToken);
        }

        if (probe.SeenId is { } duplicateId)
        {
            return await DuplicateOfAsync(duplicateId, cancellationToken);
        }

        rawStore.Write(tenantId, sha256, raw);
        // Mail refused by the parser is still listed by its subject and sender where its headers allow.
        var headers = parsed is null ? HeadersOf(raw) : (Subject: null, From: null);
        var ledger = NewLedger(tenantId, source, dedupeKey, sha256, raw.LongLength, parsed?.Subject ?? headers.Subject, parsed?.FromAddress ?? headers.From);
        // Mailboxes are polled side by side: the check and the take-in of one Message-ID happen one mailbox at a time.
        var copyKey = source != RouteSource && parsed?.MessageId is not null ? $"{tenantId}:mail:{dedupeKey}" : null;
        using var oneAtATime = copyKey is null ? null : await KeyedLock.WaitAsync(copyKey, cancellationToken);
        await using var acrossNodes = copyKey is null ? null : await KeyedLock.HoldAcrossNodesAsync(db, copyKey, cancellationToken);
        if (copyKey is not null && await OtherMailboxWithAsync(source, dedupeKey, cancellationToken) is { } other)
        {
            // To support@ and Cc sales@, both the tenant's mailboxes: one conversation and one acknowledgment, and the
            // copy is listed for the admin with where the mail went in.
            return await SettleAsync(ledger, isNew: true, InboundMailState.Dropped, $"{CopyReason}{other}", cancellationToken);
        }

        return await TakeInAsync(ledger, isNew: true, parsed, failure, settings, probe, cancellationToken);
    }

    /// <summary>The answer for a mail taken in before: what became of it. Asked only then, not by every mail's probe.</summary>
    private async Task<Result> DuplicateOfAsync(Guid mailId, CancellationToken cancellationToken)
    {
        var seen = await db.InboundMails.AsNoTracking().Where(m => m.Id == mailId).Select(m => new { m.WorkItemId, m.Reason }).FirstOrDefaultAsync(cancellationToken);
        return new Result(Outcome.Duplicate, mailId, seen?.WorkItemId, seen?.Reason);
    }

    /// <summary>Another of the tenant's mailboxes through which the mail with this Message-ID was taken in, or null.</summary>
    private async Task<string?> OtherMailboxWithAsync(string source, string dedupeKey, CancellationToken cancellationToken)
    {
        // By the mailboxes' keys, so each lookup is one probe of the ledger's (tenant, source, key) index.
        var others = await db.Mailboxes.AsNoTracking().Where(m => m.Key != source).Select(m => m.Key).ToListAsync(cancellationToken);
        return others.Count == 0 ? null : await db.InboundMails.AsNoTracking()
            .Where(m => others.Contains(m.Source) && m.DedupeKey == dedupeKey && m.State == InboundMailState.Ingested)
            .Select(m => m.Source).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Whether the mail stored under this source and key has a text body other than <paramref name="parsed"/>'s.</summary>
    private async Task<bool> SaysOtherwiseAsync(string source, string dedupeKey, ParsedEmail parsed, CancellationToken cancellationToken)
    {
        var key = $"email:{source}:{dedupeKey}";
        var stored = await db.WorkItemMessages.AsNoTracking().Where(m => m.ExternalId == key).Select(m => m.Body).FirstOrDefaultAsync(cancellationToken);
        return stored is not null && stored != parsed.TextBody.Replace("\0", "", StringComparison.Ordinal);
    }

    /// <summary>
    /// A mail its mailbox says is larger than <see cref="EmailOptions.MaxBytes"/>: written from the server's stream
    /// straight to disk, never held in memory (a mail of some hundred megabytes would take the process down, and
    /// again at every poll while it stays unseen), and quarantined, listed by the subject and sender its mailbox gave.
    /// </summary>
    public async Task<Result> QuarantineOversizeAsync(string source, Stream raw, string? subject, string? from, CancellationToken cancellationToken)
    {
        var tenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Mail is taken in inside one tenant's scope.");
        var (sha256, size) = await rawStore.WriteAsync(tenantId, raw, cancellationToken);
        return await db.Database.OnOneConnectionAsync(async () =>
        {
            var dedupeKey = $"sha256:{sha256}";
            var probe = await ProbeAsync(source, dedupeKey, from, null, null, cancellationToken);
            if (probe.SeenId is { } duplicateId)
            {
                return await DuplicateOfAsync(duplicateId, cancellationToken);
            }

            var ledger = NewLedger(tenantId, source, dedupeKey, sha256, size, MailText.Line(subject, EmailParser.MaxSubjectLength), from);
            return await TakeInAsync(ledger, isNew: true, parsed: null, $"larger than {options.Value.MaxBytes} bytes", null, probe, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>A new mail's ledger row, listed by <paramref name="subject"/> and <paramref name="from"/> where known.</summary>
    private InboundMail NewLedger(Guid tenantId, string source, string dedupeKey, string sha256, long size, string? subject, string? from) => new()
    {
        Id = Guid.CreateVersion7(),
        TenantId = tenantId,
        Source = source,
        DedupeKey = dedupeKey,
        RawSha256 = sha256,
        Size = size,
        Subject = ColumnText.Shorten(subject ?? "", 400),
        FromAddress = from is { } sender ? ColumnText.Fit(sender, 320) : null,
        ReceivedAt = clock.GetUtcNow().UtcDateTime,
    };

    /// <summary>The reason of a mail dropped as a copy of one taken in through another of the tenant's mailboxes.</summary>
    private const string CopyReason = "the same mail came in through mailbox ";

    /// <summary>
    /// Runs a quarantined mail through again (after a parser fix, or with <paramref name="allowOversize"/>
    /// for a mail refused only for its size), or takes in a mail the hygiene rules dropped (<see cref="TakeInDroppedAsync"/>).
    /// A mail taken in already answers <see cref="Outcome.Duplicate"/> with its item, so a second attempt makes nothing new.
    /// Answers null when the tenant in scope has no such mail.
    /// </summary>
    public async Task<Result?> ReprocessAsync(Guid mailId, bool allowOversize, CancellationToken cancellationToken)
    {
        var ledger = await db.InboundMails.FirstOrDefaultAsync(m => m.Id == mailId, cancellationToken);
        if (ledger is null)
        {
            return null;
        }

        if (ledger.State == InboundMailState.Ingested)
        {
            return new Result(Outcome.Duplicate, ledger.Id, ledger.WorkItemId, "already taken in");
        }

        if (ledger.RawRemovedAt is not null)
        {
            // Its bytes went by the retention setting: nothing to take in (the callers say why, RawMailRetention.WhyGoneAsync).
            return null;
        }

        if (ledger.State == InboundMailState.Dropped)
        {
            return await TakeInDroppedAsync(ledger, allowOversize, cancellationToken);
        }

        var raw = await rawStore.ReadAsync(ledger.TenantId, ledger.RawSha256, cancellationToken);
        var (parsed, failure) = Parse(raw, allowOversize ? long.MaxValue : options.Value.MaxBytes, MaxAttachmentBytes);
        parsed = await UnlessToADeskAsync(parsed, cancellationToken);
        return await TakeInAsync(ledger, isNew: false, parsed, failure, null, null, cancellationToken);
    }

    /// <summary>
    /// A mail the hygiene rules dropped (taken for an auto-reply, a delivery report, a read receipt, our own mail come back),
    /// taken in because a provider admin judged the rule wrong: as a person's mail, past those rules, threaded as any mail
    /// is, but never acknowledged (it was judged automatic once, and an answer to a machine starts a loop). What the rule
    /// did meanwhile (a suppression after a bounce) stays. Not a copy of a mail taken in through another mailbox (that
    /// would be a second conversation), nor one an admin discarded from quarantine (its raw copy is gone).
    /// </summary>
    private async Task<Result> TakeInDroppedAsync(InboundMail ledger, bool allowOversize, CancellationToken cancellationToken)
    {
        var was = ledger.Reason ?? "";
        Result Refused(string why) => new(Outcome.Refused, ledger.Id, null, why);
        if (was.StartsWith(CopyReason, StringComparison.Ordinal))
        {
            return Refused($"a copy of a mail taken in through another mailbox ({was})");
        }

        if (was.StartsWith(DiscardQuarantinedMail.ReasonPrefix, StringComparison.Ordinal) || !File.Exists(rawStore.PathOf(ledger.TenantId, ledger.RawSha256)))
        {
            return Refused($"discarded, its raw copy deleted ({was})");
        }

        var raw = await rawStore.ReadAsync(ledger.TenantId, ledger.RawSha256, cancellationToken);
        var (parsed, failure) = Parse(raw, allowOversize ? long.MaxValue : options.Value.MaxBytes, MaxAttachmentBytes);
        parsed = await UnlessToADeskAsync(parsed, cancellationToken);
        if (parsed is not { FromAddress: { Length: > 0 } from })
        {
            return Refused(failure ?? "it names no sender to start a conversation with");
        }

        return await IngestAsync(ledger, isNew: false, parsed, from, null, null, $"taken in by a provider admin; first dropped: {was}", cancellationToken);
    }

    /// <param name="probe">
    /// What the caller asked first under the ledger's key (<see cref="ProbeAsync"/>): the sender's automatic mails from us
    /// within the cap's window, whether a bounce suppressed the sender (a mail a person writes from it lifts that), and
    /// ingestion's lookup; null to ask here.
    /// </param>
    private async Task<Result> TakeInAsync(
        InboundMail ledger, bool isNew, ParsedEmail? parsed, string? failure, ChannelSettings? settings, IngestMessage.MailAnswers? probe, CancellationToken cancellationToken)
    {
        // A delivery report or a read receipt is machine mail whatever its From says ("MAILER DAEMON <>"): settled below
        // as one, not quarantined for its sender.
        if (parsed is null || (string.IsNullOrEmpty(parsed.FromAddress) && parsed.DeliveryStatus is null && !parsed.IsReadReceipt))
        {
            return await QuarantineWithoutSenderAsync(ledger, isNew, parsed, failure, cancellationToken);
        }

        if (await IsOurOwnAsync(parsed, ledger.TenantId, cancellationToken))
        {
            return await SettleAsync(ledger, isNew, InboundMailState.Dropped, "our own mail came back", cancellationToken);
        }

        if ((parsed.IsReadReceipt || AutomaticMail.IsReturnReceipt(parsed.Headers, parsed.TextBody)) && parsed.DeliveryStatus is null)
        {
            // "Your message was read" (an MDN, or Lotus Notes' plain-text return receipt): joining the thread would reopen
            // the item and restart its SLA clock for nothing, and as a new mail it opened an item and got an acknowledgment.
            return await SettleAsync(ledger, isNew, InboundMailState.Dropped, "read receipt", cancellationToken);
        }

        if ((parsed.DeliveryStatus is { } dsn ? DeliveryStatus.Parse(dsn) : DeliveryStatus.FromPlainText(parsed.Headers, parsed.FromAddress, parsed.TextBody)) is { } report)
        {
            return await BounceAsync(ledger, isNew, parsed, report, cancellationToken);
        }

        if (string.IsNullOrEmpty(parsed.FromAddress))
        {
            // A report that did not read as one, from nobody to answer.
            return await QuarantineWithoutSenderAsync(ledger, isNew, parsed, failure, cancellationToken);
        }

        return await IngestAsync(ledger, isNew, parsed, parsed.FromAddress, settings, probe, overruled: null, cancellationToken);
    }

    /// <summary>A mail with a sender, through <see cref="IngestMessage"/>: threaded or a new conversation, acknowledged when a person wrote it.</summary>
    /// <param name="from">The mail's sender (<paramref name="parsed"/>'s, checked to be there).</param>
    /// <param name="overruled">
    /// Set when a provider admin takes in a mail the hygiene rules dropped (<see cref="TakeInDroppedAsync"/>): it is read as
    /// a person's, never acknowledged, and its ledger row keeps this as its reason.
    /// </param>
    private async Task<Result> IngestAsync(
        InboundMail ledger, bool isNew, ParsedEmail parsed, string from, ChannelSettings? settings, IngestMessage.MailAnswers? probe, string? overruled, CancellationToken cancellationToken)
    {
        settings ??= await db.ChannelSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        var attachments = await StoreAttachmentsAsync(parsed, ledger.TenantId, cancellationToken);
        List<string> references = [.. ThreadReferences(parsed)];
        var tokenItem = settings is null ? null : TokenItem(parsed, settings, ledger.TenantId);
        // An out-of-office subject is a machine's only on mail that answers ours (or with another sign): alone it is a person's.
        var answersOurs = tokenItem is not null || references.Any(IsOurMessageId);
        var fromPerson = overruled is not null || AutomaticMail.MayAutoReply(parsed.Headers, parsed.FromAddress, answersOurs);
        var message = new InboundMessage("email", $"{ledger.Source}:{ledger.DedupeKey}", from, parsed.FromName, parsed.Subject, parsed.TextBody)
        {
            HtmlBody = InlineImages.Link(parsed.HtmlBody, parsed.Attachments, attachments),
            InternetMessageId = parsed.MessageId,
            SentBy = parsed.SentBy,
            ThreadReferences = references,
            ThreadItemId = tokenItem,
            // A list's or a machine's mail names a list or nobody to copy: only a person's mail keeps its copies.
            Cc = fromPerson ? await CopiesAsync(parsed, settings, cancellationToken) : [],
            Attachments = attachments,
            Automatic = !fromPerson,
            AutoReply = overruled is null && AutomaticMail.IsAutoReply(parsed.Headers, parsed.FromAddress, answersOurs),
            OnlyJoins = overruled is null && AutomaticMail.IsAnswerOnly(parsed.Headers, parsed.FromAddress, answersOurs),
            // A new mail's ledger row was just found absent under the same key; a reprocessed one was never ingested.
            CheckedNew = true,
            LookedUp = probe?.LookedUp,
        };

        // Only to an address a relay can deliver to: "From: localonly" would go wherever the relay's own domain points.
        // The acknowledgment goes to it as normalized, which is also how the loop breaker and suppressions find it.
        var replyTo = ReplyAddress.Normalize(parsed.FromAddress);
        var mayAcknowledge = overruled is null && !message.Automatic && settings is { AcknowledgmentsOff: false, SupportAddress: { } support } && !IsSupportAddress(from, support)
            && replyTo is not null
            && (probe ?? await ProbeAsync(ledger.Source, ledger.DedupeKey, parsed, cancellationToken)) is var asked
            && AutomaticLimit.Allows(asked.RecentRepeats, asked.RecentAcknowledgments);
        var acknowledged = false;
        // A write that fails, or loses to the same mail taken in at this very moment, leaves no files behind (IngestMessage);
        // the raw mail stays, for the retry or a reprocess.
        IngestMessage.Result result;
        try
        {
            result = await ingest.HandleAsync(message, stored =>
            {
                ledger.State = InboundMailState.Ingested;
                ledger.Reason = overruled is null ? null : ColumnText.Fit(overruled, 1000);
                ledger.WorkItemId = stored.Item.Id;
                Track(ledger, isNew);
                if (stored.Created && mayAcknowledge)
                {
                    acknowledged = true;
                    db.OutboundMessages.Add(Acknowledgment(stored, parsed, replyTo!, settings));
                }
            }, cancellationToken);
        }
        catch (IngestMessage.NothingToJoinException)
        {
            // An out-of-office or a mail system's notice about mail that is no conversation here: as a new item it would sit
            // in the queue with its clocks running, asking for an answer nobody can give. Kept raw and listed as dropped.
            db.ChangeTracker.Clear();
            return await SettleAsync(ledger, isNew, InboundMailState.Dropped, "an automatic reply that answers no conversation here", cancellationToken);
        }

        if (result.Duplicate)
        {
            // The same mail, taken in at this very moment by another request or node: the winner's id is the answer.
            var winner = await db.InboundMails.AsNoTracking().Where(m => m.Source == ledger.Source && m.DedupeKey == ledger.DedupeKey)
                .Select(m => (Guid?)m.Id).FirstOrDefaultAsync(cancellationToken);
            return new Result(Outcome.Duplicate, winner ?? ledger.Id, result.Item.Id);
        }

        if (probe is { Suppressed: true } && !message.Automatic)
        {
            // The address bounced once, but a person just wrote from it: it works again, and replies must reach it.
            await db.EmailSuppressions.Where(s => s.TenantId == ledger.TenantId && s.Address == replyTo).ExecuteDeleteAsync(cancellationToken);
        }

        if (acknowledged)
        {
            dispatcher.Wake();
        }

        return new Result(result.Created ? Outcome.Created : Outcome.Threaded, ledger.Id, result.Item.Id);
    }

    /// <summary>Puts the ledger row into the transaction again (ingestion clears the tracker when it retries after a race).</summary>
    private void Track(InboundMail ledger, bool isNew)
    {
        if (db.Entry(ledger).State == EntityState.Detached)
        {
            if (isNew)
            {
                db.InboundMails.Add(ledger);
            }
            else
            {
                db.InboundMails.Update(ledger);
            }
        }
    }

    private Task<Result> QuarantineWithoutSenderAsync(InboundMail ledger, bool isNew, ParsedEmail? parsed, string? failure, CancellationToken cancellationToken)
    {
        // A From the desk cannot answer ("john q"@example.com, an empty group) is named, so the admin sees why (probe round 12).
        var from = parsed?.Headers.FirstOrDefault(h => h.Key.Equals("From", StringComparison.OrdinalIgnoreCase)).Value?.Trim();
        return SettleAsync(ledger, isNew, InboundMailState.Quarantined,
            failure ?? (string.IsNullOrEmpty(from) ? "no sender address" : $"a sender address the desk cannot use: {from}"), cancellationToken);
    }

    private async Task<Result> SettleAsync(InboundMail ledger, bool isNew, InboundMailState state, string reason, CancellationToken cancellationToken)
    {
        ledger.State = state;
        ledger.Reason = ColumnText.Fit(reason, 1000);
        Track(ledger, isNew);

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (isNew)
        {
            // The same mail, taken in at this very moment by another request or node.
            db.ChangeTracker.Clear();
            var winner = await db.InboundMails.AsNoTracking().FirstAsync(m => m.Source == ledger.Source && m.DedupeKey == ledger.DedupeKey, cancellationToken);
            return new Result(Outcome.Duplicate, winner.Id, winner.WorkItemId, winner.Reason);
        }

        return new Result(state == InboundMailState.Quarantined ? Outcome.Quarantined : Outcome.Dropped, ledger.Id, null, reason);
    }

    /// <summary>
    /// A delivery report: a permanent failure suppresses its address, but only for an address we mailed in a
    /// message the report quotes by its Message-ID (ours are random): anyone can send a report, and a forged one
    /// must not silence a customer. The item it answers is left as it is.
    /// </summary>
    private async Task<Result> BounceAsync(InboundMail ledger, bool isNew, ParsedEmail parsed, DeliveryStatusReport report, CancellationToken cancellationToken)
    {
        var reported = DeliveryStatus.PermanentlyFailed(report).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var ours = reported.Count == 0 ? [] : OurMessageIdsIn(parsed);
        var mailed = ours.Count == 0 ? [] : await db.OutboundMessages
            .Where(o => o.InternetMessageId != null && ours.Contains(o.InternetMessageId)).ToListAsync(cancellationToken);
        // Compared and kept as ReplyAddress normalizes them (an IDN domain in its ASCII form), as the dispatcher and a
        // later mail from the address compare: a report may name jorg@xn--bcher-kva.example for mail to jorg@bücher.example.
        // A copy that bounces is suppressed like the customer's address; only the customer's marks the reply undelivered.
        var mailedNormal = mailed.SelectMany(o => MailCopies.Split(o.Cc).Prepend(o.To)).Select(ReplyAddress.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var statusOf = report.Recipients.GroupBy(r => ReplyAddress.Key(r.Address), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Status, StringComparer.OrdinalIgnoreCase);
        var failed = reported.Select(ReplyAddress.Key).Where(mailedNormal.Contains).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var known = await db.EmailSuppressions.AsNoTracking().Where(s => failed.Contains(s.Address)).Select(s => s.Address).ToListAsync(cancellationToken);
        foreach (var address in failed.Except(known, StringComparer.OrdinalIgnoreCase))
        {
            db.EmailSuppressions.Add(new EmailSuppression
            {
                TenantId = ledger.TenantId, Address = ColumnText.Fit(address, 320), Reason = $"bounce {statusOf.GetValueOrDefault(address)}", CreatedAt = ledger.ReceivedAt,
            });
        }

        // The agent who wrote a reply that bounced sees it was not delivered, not "sent" (Deliveries).
        var returnedReplies = new List<OutboundMessage>();
        foreach (var returned in mailed.Where(o => o.State == OutboundState.Sent))
        {
            var address = ReplyAddress.Key(returned.To);
            if (failed.Contains(address, StringComparer.OrdinalIgnoreCase))
            {
                returned.State = OutboundState.Failed;
                returned.LastError = ColumnText.Fit($"bounced ({statusOf.GetValueOrDefault(address)}): the recipient's mail server refused it for good", 1000);
                if (returned is { WorkItemMessageId: not null, Automatic: false })
                {
                    returnedReplies.Add(returned);
                }
            }
        }

        var reason = failed.Count > 0 ? $"permanent bounce for {string.Join(", ", failed)}"
            : reported.Count > 0 ? "permanent failure reported for mail we did not send to that address: nothing suppressed"
            : "delivery report (not a permanent failure)";
        var settled = await SettleAsync(ledger, isNew, InboundMailState.Dropped, reason, cancellationToken);
        // An agent's reply that bounced answered nobody: its item is taken back to Open and its response runs on, as for
        // one the dispatcher gave up (it used to count as the response for good: decision 82's "left"). After the
        // report's own save, so taking it back (which retries on an agent's concurrent save) cannot lose the report.
        if (settled.Outcome == Outcome.Dropped)
        {
            foreach (var reply in returnedReplies)
            {
                await undelivered.ReopenAsync(reply, cancellationToken);
            }
        }

        return settled;
    }

    /// <summary>Our Message-IDs quoted by a report: in the returned headers or message, or its text.</summary>
    private List<string> OurMessageIdsIn(ParsedEmail parsed)
    {
        var ours = new Regex($@"<([^<>\s""]{{1,900}}@{Regex.Escape(smtp.Value.MessageIdDomain)})>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var quoted = parsed.Attachments
            .Where(a => a.ContentType.StartsWith("message/", StringComparison.OrdinalIgnoreCase) || a.ContentType.Equals("text/rfc822-headers", StringComparison.OrdinalIgnoreCase))
            .Select(a => Encoding.Latin1.GetString(a.Content, 0, Math.Min(a.Content.Length, 256 * 1024)))
            .Append(parsed.TextBody ?? "");
        return quoted.SelectMany(text => ours.Matches(text).Select(m => m.Groups[1].Value)).Distinct(StringComparer.Ordinal).Take(50).ToList();
    }

    /// <summary>
    /// What every new mail asks first: the id of the same mail's ledger row, if any (what became of it only for a mail
    /// seen before: <see cref="DuplicateOfAsync"/>), how many automatic mails its sender got from us within the loop
    /// breaker's window, and whether the sender is suppressed; asked with ingestion's lookup, in one round trip (decision 76).
    /// </summary>
    // Acknowledgments and suppressions name the sender as ReplyAddress normalizes it (lower-case, domain in ASCII);
    // a sender we cannot reply to matches neither. The counts are what the loop breaker counts: acknowledgments to the
    // sender within the window, all of them and those for mails saying the same as this one, so an auto-responder that
    // ignores RFC 3834 (and starts a new conversation with every answer) gets a few acknowledgments, not an endless
    // exchange, while a person's fourth different request in the hour is acknowledged as the first was (probe round 20).
    private Task<IngestMessage.MailAnswers> ProbeAsync(string source, string dedupeKey, ParsedEmail? parsed, CancellationToken cancellationToken) =>
        ProbeAsync(source, dedupeKey, parsed?.FromAddress, parsed is null ? null : SubjectKey(parsed), parsed is null ? null : AutoReplyLimit.RepeatKey(parsed.TextBody), cancellationToken);

    private Task<IngestMessage.MailAnswers> ProbeAsync(string source, string dedupeKey, string? fromAddress, long? subjectKey, long? textKey, CancellationToken cancellationToken) =>
        ingest.LookUpMailAsync(fromAddress,
            new IngestMessage.MailQuestions(source, dedupeKey, ReplyAddress.Normalize(fromAddress), clock.GetUtcNow().UtcDateTime - AutomaticLimit.Window, subjectKey, textKey), cancellationToken);

    /// <summary>The subject's key without reply prefixes: a machine answering our acknowledgment answers "Re: " its subject.</summary>
    private static long? SubjectKey(ParsedEmail parsed) => AutoReplyLimit.RepeatKey(ReplySubject.Answered(parsed.Subject) ?? parsed.Subject);

    /// <summary>
    /// Whom the mail also named besides the desk. The tenant's mailboxes are the desk's too (a mail to two of them, or one
    /// polled without a Delivered-To): asked only when the mail names someone else, so a mail to the desk alone asks nothing.
    /// </summary>
    private async Task<IReadOnlyList<string>> CopiesAsync(ParsedEmail parsed, ChannelSettings? settings, CancellationToken cancellationToken)
    {
        string?[] ours = [settings?.SupportAddress, .. parsed.DeliveredTo];
        if (!MailCopies.NamesOthers(parsed.Addressed, parsed.FromAddress, ours))
        {
            return [];
        }

        var mailboxes = await db.Mailboxes.AsNoTracking().Select(m => m.UserName).ToListAsync(cancellationToken);
        return MailCopies.Of(parsed.Addressed, parsed.FromAddress, [.. ours, .. mailboxes]);
    }

    /// <summary>
    /// The tenant's own support address, or one of its +tagged reply addresses: a mail "from" it (a forwarding rule,
    /// a colleague's misconfigured client, a spoof) is never acknowledged, which would only mail ourselves.
    /// </summary>
    private static bool IsSupportAddress(string from, string support) =>
        UntaggedAddress.Of(from) is { Local.Length: > 0 } sender && UntaggedAddress.Of(support) is { } ours
        && string.Equals(sender.Local, ours.Local, StringComparison.OrdinalIgnoreCase)
        && string.Equals(sender.Domain, ours.Domain, StringComparison.OrdinalIgnoreCase);

    private static readonly AutoReplyLimit AutomaticLimit = new();

    /// <summary>What a blank mail's acknowledgment keeps as its text's key: never null, which would not count it as one.</summary>
    private const long BlankTextKey = 0;

    private OutboundMessage Acknowledgment(IngestMessage.Result stored, ParsedEmail parsed, string to, ChannelSettings? settings)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new OutboundMessage
        {
            Id = Guid.CreateVersion7(),
            TenantId = stored.Item.TenantId,
            WorkItemId = stored.Item.Id,
            Channel = "email",
            To = to,
            ToName = parsed.FromName,
            Subject = ReplyDelivery.SubjectOf(stored.Item.Subject),
            Body = AcknowledgmentText.For(settings, stored.Item.Id, stored.Item.Subject, DisplayName.Of(parsed.FromName, to), tenants.Current?.Name),
            InReplyTo = parsed.MessageId,
            References = parsed.MessageId,
            AcknowledgedSubjectKey = SubjectKey(parsed),
            AcknowledgedTextKey = AutoReplyLimit.RepeatKey(parsed.TextBody) ?? BlankTextKey,
            InternetMessageId = ReplyDelivery.NewMessageId(smtp.Value),
            Automatic = true,
            State = OutboundState.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        };
    }

    private async Task<IReadOnlyList<InboundAttachment>> StoreAttachmentsAsync(ParsedEmail parsed, Guid tenantId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Ids in the mail's order (a millisecond apart: version 7 ids sort by time first), which lists keep.
        return await Attachments.WriteBlobsAsync(paths, tenantId, parsed.Attachments.Select((file, i) => new Attachments.BlobToWrite(
            Guid.CreateVersion7(now.AddMilliseconds(i)), () => new MemoryStream(file.Content, writable: false), file.FileName, ColumnText.Fit(file.ContentType, 128))), cancellationToken);
    }

    /// <summary>
    /// Our own mail come back: a Message-ID of our domain that we sent, or that domain with this tenant's origin header.
    /// The header alone is no proof: it is in every mail we send, and a customer's mail client may copy it into an
    /// answer or forward (probe round 8), which must reach the desk, not vanish as ours.
    /// </summary>
    private async Task<bool> IsOurOwnAsync(ParsedEmail parsed, Guid tenantId, CancellationToken cancellationToken)
    {
        if (parsed.MessageId is not { } id || !id.EndsWith($"@{smtp.Value.MessageIdDomain}", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var origin = parsed.Headers.Where(h => string.Equals(h.Key, SmtpEmailSender.OriginHeader, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim());
        return origin.Contains(tenantId.ToString("N"), StringComparer.OrdinalIgnoreCase)
            || await db.OutboundMessages.AnyAsync(o => o.InternetMessageId == id, cancellationToken);
    }

    /// <summary>
    /// The ids a mail answers: In-Reply-To's, then References newest first, each once; our own Message-IDs lead, wherever
    /// they stood. Ours are unguessable and each names its item, while threading reads only the newest few ids and the
    /// root: a colleague re-adding the desk after a long internal exchange put our reply's id out of that reach (probe 18).
    /// </summary>
    private IEnumerable<string> ThreadReferences(ParsedEmail parsed)
    {
        var ids = (parsed.InReplyTo is { } inReplyTo ? [inReplyTo] : Array.Empty<string>())
            .Concat(parsed.AlsoInReplyTo).Concat(parsed.References.Reverse()).Distinct(StringComparer.Ordinal).ToList();
        return ids.Where(IsOurMessageId).Concat(ids.Where(id => !IsOurMessageId(id)));
    }

    /// <summary>A Message-ID of our domain: one we made (no other sender writes our domain into its ids).</summary>
    private bool IsOurMessageId(string id) => id.EndsWith($"@{smtp.Value.MessageIdDomain}", StringComparison.OrdinalIgnoreCase);

    /// <summary>The item named by a reply-address token signed with this tenant's key, for this tenant.</summary>
    private static Guid? TokenItem(ParsedEmail parsed, ChannelSettings settings, Guid tenantId) =>
        ReplyToken.TryFindToken(parsed.Recipients, out var token)
        && ReplyToken.TryRead(token, settings.ReplyTokenKey, out var tokenTenant, out var itemId)
        && tokenTenant == tenantId
            ? itemId
            : null;

    /// <summary>
    /// A Reply-To naming a help desk (this one, or another client's, +tagged or not) makes no customer: answering it would
    /// mail a desk, which takes it in as a new conversation. The mail stays its From's.
    /// </summary>
    private async Task<ParsedEmail?> UnlessToADeskAsync(ParsedEmail? parsed, CancellationToken cancellationToken) =>
        parsed is { SentBy: { } sentBy, FromAddress: { } customer } && await channelSettings.IsDeskAddressAsync(customer, cancellationToken)
            ? parsed with { FromAddress = sentBy, FromName = parsed.SentByName, SentBy = null, SentByName = null }
            : parsed;

    private static (ParsedEmail? Parsed, string? Failure) Parse(byte[] raw, long maxBytes, long maxAttachmentBytes)
    {
        if (raw.LongLength > maxBytes)
        {
            return (null, $"larger than {maxBytes} bytes");
        }

        try
        {
            // Parsed where it lies: read through a stream, the mail was copied into a growing buffer first, twice its size at times.
            return (EmailParser.Parse(raw, new EmailParserLimits { MaxBytes = maxBytes, MaxAttachmentBytes = maxAttachmentBytes }), null);
        }
        catch (UnparseableEmailException e)
        {
            return (null, e.Message);
        }
    }

    private static (string? Subject, string? From) HeadersOf(byte[] raw)
    {
        try
        {
            using var stream = new MemoryStream(raw, 0, (int)Math.Min(raw.LongLength, 256 * 1024), writable: false);
            var list = MimeKit.HeaderList.Load(stream);
            var from = MimeKit.InternetAddressList.TryParse(list[MimeKit.HeaderId.From] ?? "", out var addresses)
                ? addresses.Mailboxes.FirstOrDefault()?.Address : null;
            return (list[MimeKit.HeaderId.Subject], from);
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

}

/// <summary>Section "Email": limits of inbound mail.</summary>
public sealed class EmailOptions
{
    /// <summary>
    /// Mail larger than this is quarantined (kept raw, reprocessable by a provider admin). Default 50 MB: base64 makes 25 MB
    /// of files (<c>Attachments:MaxBytes</c>) about 34 MB of mail, so a mail whose files fit is taken in (probe round 20).
    /// </summary>
    public long MaxBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>How often a mailbox whose server lacks IDLE is polled by the watcher (the recurring job polls every minute regardless).</summary>
    public int PollSeconds { get; set; } = 30;

    /// <summary>Keep IDLE connections to mailboxes (on by default; off leaves only the minute's poll).</summary>
    public bool Watch { get; set; } = true;

    /// <summary>How soon the watcher notices a mailbox added, changed or removed.</summary>
    public int WatchRefreshSeconds { get; set; } = 15;

    /// <summary>
    /// Days the raw bytes of mail taken in or dropped are kept (<see cref="RawMailRetention"/>); 0 keeps them forever.
    /// Quarantined mail keeps its bytes until it is taken in or discarded.
    /// </summary>
    public int RawRetentionDays { get; set; } = 90;
}
