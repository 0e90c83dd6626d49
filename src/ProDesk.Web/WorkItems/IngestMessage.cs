using System.Net.Mail;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Realtime;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>One inbound message from any channel, normalised.</summary>
public sealed record InboundMessage(string Channel, string ExternalId, string FromAddress, string? FromName, string Subject, string Body);

/// <summary>
/// The one ingestion path (DESIGN.md "The flow of one message"): in one transaction, dedupe by
/// external id, find or create the contact, create the item in the tenant's default queue with its
/// first message, start its SLA clocks, record the change and append an outbox event. Runs inside the
/// tenant's scope.
/// </summary>
public sealed class IngestMessage(ProDeskDbContext db, ITenantContext tenants, SlaEngine sla, OutboxRelay relay, PushRouting routing, TimeProvider clock)
{
    /// <summary>The item (new, or the one already stored under the external id) and the key of its queue.</summary>
    public sealed record Result(WorkItem Item, string QueueKey, bool Created);

    public async Task<Result> HandleAsync(InboundMessage message, CancellationToken cancellationToken = default)
    {
        // A unique-index race (the same external id, or a new contact arriving twice at once) loses
        // the insert; the next attempt finds what the winner wrote.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryOnceAsync(message, cancellationToken);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task<Result> TryOnceAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        if (await FindAsync(message, cancellationToken) is { } existing)
        {
            return new Result(existing.Item, existing.QueueKey, Created: false);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var queue = await db.Queues.AsNoTracking().FirstAsync(q => q.IsDefault, cancellationToken);
        var contact = await ContactAsync(message, now, cancellationToken);
        var item = new WorkItem
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Ingestion runs in one tenant's scope."),
            Kind = WorkItemKind.Conversation,
            Status = WorkItemStatus.Open,
            QueueId = queue.Id,
            Subject = message.Subject,
            Channel = message.Channel,
            ExternalId = message.ExternalId,
            ContactId = contact.Id,
            CreatedAt = now,
            UpdatedAt = now,
            Messages =
            [
                new WorkItemMessage { Id = Guid.CreateVersion7(), Kind = MessageKind.Inbound, AuthorName = contact.Name, Body = message.Body, CreatedAt = now },
            ],
        };
        db.WorkItems.Add(item);
        await sla.StartAsync(item, queue.Key, now, cancellationToken);
        WorkItemTrail.Changed(db, item.Id, item.TenantId, now, null, message.FromAddress, "created", null, item.Status.ToString());
        db.OutboxEvents.Add(new OutboxEvent { Type = "WorkItemCreated", PayloadJson = JsonSerializer.Serialize(new { item.Id, item.Subject, item.Channel }), CreatedAt = now });
        // One SaveChanges is one transaction: the contact, item, message, change and outbox event land together or not at all.
        await db.SaveChangesAsync(cancellationToken);
        relay.Wake();
        // Push queues assign at once; after the commit, so a routing failure never loses the message.
        item.AssigneeId = await routing.RouteAsync(item, queue, cancellationToken) ?? item.AssigneeId;
        return new Result(item, queue.Key, Created: true);
    }

    private Task<Result?> FindAsync(InboundMessage message, CancellationToken cancellationToken) =>
        db.WorkItems.AsNoTracking().Where(w => w.Channel == message.Channel && w.ExternalId == message.ExternalId)
            .Select(w => new Result(w, db.Queues.Where(q => q.Id == w.QueueId).Select(q => q.Key).First(), false))
            .FirstOrDefaultAsync(cancellationToken);

    private async Task<Contact> ContactAsync(InboundMessage message, DateTime now, CancellationToken cancellationToken)
    {
        var email = MailAddress.TryCreate(message.FromAddress, out var address) ? address.Address.ToLowerInvariant() : message.FromAddress;
        var contact = await db.Contacts.FirstOrDefaultAsync(c => c.Email == email, cancellationToken);
        if (contact is null)
        {
            contact = new Contact { Id = Guid.CreateVersion7(), Name = string.IsNullOrWhiteSpace(message.FromName) ? email : message.FromName.Trim(), Email = email, CreatedAt = now };
            db.Contacts.Add(contact);
        }

        return contact;
    }
}
