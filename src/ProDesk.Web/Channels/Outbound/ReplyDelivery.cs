using ProDesk.Domain.Channels.Email;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Sms;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Sms;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Channels.Outbound;

/// <summary>
/// Turns a public reply into an outbound message on the item's channel, in the reply's own
/// transaction: mail threads under the customer's last mail (In-Reply-To, References), SMS and
/// WhatsApp go to the number that texted last, chat to the visitor who wrote last. API and web-form conversations are
/// answered by mail, since their sender gave an address. A chat visitor who has left (no chat connection open now, on
/// any node: <see cref="Chat.IChatVisitors"/>) gets the reply by mail as well, at the address given in the chat.
/// </summary>
public sealed class ReplyDelivery(ProDeskDbContext db, IOptions<SmtpOptions> smtp, ISmsGateway sms, Chat.IChatVisitors visitors, SmsOptOuts optOuts, TimeProvider clock)
{
    /// <summary>What a chat reply mailed to a visitor who left starts with.</summary>
    public const string ContinuesChat = "This continues your chat with us: you had left when we answered. Reply to this mail to carry on.";

    /// <summary>Why a chat reply did not reach a visitor who left without an address the desk can mail.</summary>
    public const string VisitorLeftUnreachable = "The visitor has left the chat and cannot be reached: no address to mail the reply to. It is shown to them if they come back to the chat.";

    /// <summary>Message-IDs a reply's References names at most.</summary>
    private const int MaxReferences = 20;

    public static string ChannelOf(string itemChannel) => itemChannel switch
    {
        "sms" or "whatsapp" or "chat" => itemChannel,
        _ => "email",
    };

    /// <summary>Adds the outbound message for <paramref name="reply"/>; null when the contact has nowhere to receive it.</summary>
    /// <param name="files">Files of the item sent with a reply by mail (<see cref="WorkItems.ReplyFiles"/>, checked by the caller).</param>
    public async Task<OutboundMessage?> AddAsync(WorkItem item, WorkItemMessage reply, CancellationToken cancellationToken, IReadOnlyList<WorkItems.ReplyFiles.OutboundFile>? files = null)
    {
        var contact = item.ContactId is { } contactId ? await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken) : null;
        var channel = ChannelOf(item.Channel);
        var to = channel switch
        {
            "email" => contact?.Email,
            "chat" => await Chat.ChatReplyAddress.ForAsync(db, item.Id, cancellationToken),
            _ => await TextReplyAddressAsync(item.Id, cancellationToken) ?? contact?.Phone,
        };
        if (contact is null || string.IsNullOrEmpty(to))
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var outbound = new OutboundMessage
        {
            Id = Guid.CreateVersion7(),
            TenantId = item.TenantId,
            WorkItemId = item.Id,
            WorkItemMessageId = reply.Id,
            Channel = channel,
            To = to,
            ToName = contact.Name,
            Body = reply.Body,
            AttachmentsJson = channel == "email" ? WorkItems.ReplyFiles.Write(files) : null,
            State = OutboundState.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        };

        if (channel == "email")
        {
            await AddressMailAsync(item, reply, outbound, cancellationToken);
        }

        else if (channel is "sms" or "whatsapp" && await WhyNoTextAsync(channel, to, cancellationToken) is { } why)
        {
            // As for mail: a text that cannot leave is known now, so it answers nobody and shows why (probe round 19).
            outbound.State = OutboundState.Failed;
            outbound.LastError = why;
        }

        db.OutboundMessages.Add(outbound);
        return channel == "chat" && Chat.ChatReplyAddress.TryParse(to, out _, out var session) && !await visitors.IsConnectedAsync(session, cancellationToken)
            ? await ToVisitorWhoLeftAsync(item, reply, outbound, session, cancellationToken)
            : outbound;
    }

    /// <summary>
    /// The visitor the chat reply <paramref name="chat"/> is for has no chat connection open: the reply stays in the chat
    /// (it shows if they come back) and goes by mail to the address they gave for the chat, from the tenant's address
    /// with the item's reply token, so their answer threads into the same item. Without an address the desk can mail,
    /// the chat reply says the visitor cannot be reached. Returns the row that says how the reply fared.
    /// </summary>
    private async Task<OutboundMessage> ToVisitorWhoLeftAsync(WorkItem item, WorkItemMessage reply, OutboundMessage chat, Guid session, CancellationToken cancellationToken)
    {
        var key = Chat.ChatReplyAddress.KeyOf(session);
        var given = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == item.Id && m.Kind == MessageKind.Inbound && m.ExternalId != null && m.ExternalId.StartsWith(key))
            .OrderByDescending(m => m.CreatedAt).Select(m => m.FromAddress).FirstOrDefaultAsync(cancellationToken);
        if (ReplyAddress.Normalize(given) is not { } address)
        {
            // Never sent live: nobody is there, and the chat's history shows it when they come back.
            chat.State = OutboundState.Failed;
            chat.LastError = VisitorLeftUnreachable;
            return chat;
        }

        var mail = new OutboundMessage
        {
            Id = Guid.CreateVersion7(),
            TenantId = item.TenantId,
            WorkItemId = item.Id,
            WorkItemMessageId = reply.Id,
            Channel = "email",
            To = address,
            ToName = chat.ToName,
            Body = $"{ContinuesChat}\n\n{reply.Body}",
            State = OutboundState.Pending,
            NextAttemptAt = chat.NextAttemptAt,
            // A microsecond after the chat row: the latest row of a reply is the delivery the console shows (Deliveries).
            CreatedAt = chat.CreatedAt.AddTicks(10),
        };
        await AddressMailAsync(item, reply, mail, cancellationToken);
        if (mail.State == OutboundState.Suppressed)
        {
            mail.LastError = $"The visitor has left the chat and cannot be reached by mail: {mail.LastError?.TrimEnd('.')}. It is shown to them if they come back to the chat.";
        }

        db.OutboundMessages.Add(mail);
        return mail;
    }

    /// <summary>
    /// Makes <paramref name="outbound"/> a mail in the item's thread: the address as the desk sends to it (suppressed
    /// when it bounced before or cannot be mailed), "Re:" and the subject, In-Reply-To and References, a new Message-ID
    /// (the reply's), and the copies of a reply-all.
    /// </summary>
    private async Task AddressMailAsync(WorkItem item, WorkItemMessage reply, OutboundMessage outbound, CancellationToken cancellationToken)
    {
        var to = outbound.To;
        // As acknowledgments and suppressions name it (lower-case, an IDN domain in ASCII). An address the desk
        // cannot reply to ("localonly", a quoted or non-ASCII local part) is not handed to the relay, which
        // would deliver "localonly" on its own domain: the reply shows as not delivered, saying why.
        if (ReplyAddress.Normalize(to) is { } normal)
        {
            outbound.To = normal;
            // Known now rather than when the dispatcher gets to it: a reply that will not be sent answers nobody,
            // so it neither meets a response target nor makes the item wait on the customer.
            var key = ReplyAddress.Key(normal);
            if (await db.EmailSuppressions.AnyAsync(s => s.Address == key, cancellationToken))
            {
                outbound.State = OutboundState.Suppressed;
                outbound.LastError = OutboundDispatcher.BouncedError;
            }
        }
        else
        {
            outbound.State = OutboundState.Suppressed;
            outbound.LastError = $"The customer's address \"{ColumnText.Fit(to, 200)}\" is not one the desk can send mail to.";
        }

        // The thread's Message-IDs, oldest first; the newest mail (theirs or ours) is the one answered.
        var thread = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == item.Id && m.InternetMessageId != null && m.Kind != MessageKind.Note)
            .OrderBy(m => m.CreatedAt).Select(m => m.InternetMessageId!).ToListAsync(cancellationToken);
        outbound.Subject = SubjectOf(item.Subject);
        outbound.InReplyTo = thread.LastOrDefault();
        // Shortened as RFC 5322 3.6.4 suggests: the thread's first message, then the latest ones (clients thread by the root).
        outbound.References = thread.Count == 0 ? null
            : string.Join(' ', thread.Count <= MaxReferences ? thread : thread.Take(1).Concat(thread.TakeLast(MaxReferences - 1)));
        outbound.InternetMessageId = NewMessageId(smtp.Value);
        reply.InternetMessageId = outbound.InternetMessageId;
        if (outbound.State == OutboundState.Pending)
        {
            outbound.Cc = reply.Cc = MailCopies.Join(await CopiesAsync(item, outbound.To, cancellationToken));
        }
    }

    /// <summary>
    /// The number of the item's latest text (SMS or WhatsApp, keyed "sms:" by ingestion), as Twilio gave it. Not the
    /// contact's phone: a contact merged into another, or whose phone an agent corrected, would send the answer to
    /// someone else's number (probe round 19). Null when no text came in on the item.
    /// </summary>
    private Task<string?> TextReplyAddressAsync(Guid itemId, CancellationToken cancellationToken) =>
        db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == itemId && m.Kind == MessageKind.Inbound && m.FromAddress != null && m.ExternalId != null && m.ExternalId.StartsWith("sms:"))
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
            .Select(m => m.FromAddress).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The number a reply by SMS on item <paramref name="itemId"/> would go to, when it opted out by texting STOP
    /// (<see cref="SmsOptOuts"/>); null when it did not, and on every other channel (WhatsApp has no keyword opt-out).
    /// </summary>
    public async Task<string?> OptedOutNumberAsync(Guid itemId, string itemChannel, Guid? contactId, CancellationToken cancellationToken)
    {
        if (ChannelOf(itemChannel) != "sms")
        {
            return null;
        }

        var to = await TextReplyAddressAsync(itemId, cancellationToken)
            ?? (contactId is { } id ? await db.Contacts.AsNoTracking().Where(c => c.Id == id).Select(c => c.Phone).FirstOrDefaultAsync(cancellationToken) : null);
        return !string.IsNullOrWhiteSpace(to) && await optOuts.OptedOutSinceAsync(to, cancellationToken) is not null ? to : null;
    }

    /// <summary>Why a text to <paramref name="to"/> cannot be sent at all (what SmsSender or Twilio would refuse for good); null when it can.</summary>
    private async Task<string?> WhyNoTextAsync(string channel, string to, CancellationToken cancellationToken)
    {
        if (sms.Unavailable is { } why)
        {
            return why;
        }

        // A reply written as the customer's STOP came in: Twilio would refuse it (21610).
        if (channel == "sms" && await optOuts.OptedOutSinceAsync(to, cancellationToken) is not null)
        {
            return SmsOptOuts.OptedOutError(to);
        }

        var from = await db.ChannelSettings.AsNoTracking().Select(c => c.SmsNumber).FirstOrDefaultAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(from))
        {
            return SmsSender.NoNumberError;
        }

        return PhoneNumbers.IsE164(to) ? null : SmsSender.NotE164Error(to);
    }

    /// <summary>
    /// Whom a reply by mail to <paramref name="to"/> is copied to, as a reply-all: who wrote the customer's latest mail (the
    /// customer, or a colleague on copy writing back) and whom it named, but the customer, the desk and addresses that
    /// bounced for good. The console shows them above the reply box. Only mail counts (keyed "email:" by ingestion): a
    /// reply-all answers whom a mail named, and an API, form, chat or text message names nobody. An integration's
    /// message posted into a mail conversation with another `from` (a CRM's mapping slip) made that address a copy of
    /// the agent's next answer to the customer (probe round 20).
    /// An automatic answer (an out-of-office) is no one's mail either: it names no copies and may come from a shared
    /// mailbox, so it neither drops the customer's colleague nor adds its responder; the latest mail a person wrote decides.
    /// </summary>
    public async Task<IReadOnlyList<string>> CopiesAsync(WorkItem item, string to, CancellationToken cancellationToken)
    {
        var latest = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == item.Id && m.Kind == MessageKind.Inbound && m.FromAddress != null && !m.Automatic && m.ExternalId != null && m.ExternalId.StartsWith(MailKeyPrefix))
            .OrderByDescending(m => m.CreatedAt).Select(m => new { m.FromAddress, m.Cc }).FirstOrDefaultAsync(cancellationToken);
        if (latest is null)
        {
            return [];
        }

        var support = await db.ChannelSettings.AsNoTracking().Select(c => c.SupportAddress).FirstOrDefaultAsync(cancellationToken);
        var copies = MailCopies.ForReply(latest.FromAddress, latest.Cc, to, [support]);
        if (copies.Count == 0)
        {
            return copies;
        }

        var suppressed = await db.EmailSuppressions.AsNoTracking().Where(s => copies.Contains(s.Address)).Select(s => s.Address).ToListAsync(cancellationToken);
        return [.. copies.Except(suppressed, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>How ingestion keys a message that came by mail (<c>IngestMessage.MessageKey</c> of channel "email").</summary>
    private const string MailKeyPrefix = "email:";

    /// <summary>"Re: " and the item's subject, at most 400 characters (the column's length).</summary>
    public static string SubjectOf(string subject) =>
        ColumnText.Shorten(subject.StartsWith("Re:", StringComparison.OrdinalIgnoreCase) ? subject : $"Re: {subject}", 400);

    /// <summary>Unguessable (a random GUID), so a reply referencing it must have seen our mail.</summary>
    public static string NewMessageId(SmtpOptions options) => $"{Guid.NewGuid():N}@{options.MessageIdDomain}";
}
