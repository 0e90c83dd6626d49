using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Sms;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// Keyword texts (<see cref="TextKeywords"/>): Twilio answers STOP, START and HELP itself and, after STOP, refuses every
/// text to the number (error 21610). Such a text opens no item: it is kept in <see cref="SmsKeywordText"/> once per
/// MessageSid, and an opt-out or opt-in is noted on the customer's open SMS item, so the agent knows why texts stop.
/// A reply by text to a number that opted out is refused at once instead of failing at the gateway later.
/// </summary>
public sealed class SmsOptOuts(ProDeskDbContext db, ITenantContext tenants, OutboxRelay relay, TimeProvider clock)
{
    /// <summary>Who the note on the item is from.</summary>
    public const string Author = "SMS keywords";

    /// <summary>Why a text to <paramref name="number"/> is refused, naming it and how the customer lifts it.</summary>
    public static string OptedOutError(string number) =>
        $"the customer opted out by texting STOP from {number}: no text can go to that number until they text START";

    /// <summary>Stores the keyword text <paramref name="sid"/> from <paramref name="number"/>; a repeat of the same sid stores nothing.</summary>
    public async Task TakeInAsync(string sid, string number, string word, TextKeyword kind, CancellationToken cancellationToken)
    {
        var tenantId = tenants.Current?.Id ?? throw new InvalidOperationException("Keyword texts are taken in within one tenant's scope.");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await TryTakeInAsync(tenantId, sid, number, word, kind, cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt < 5)
            {
                // The same text at once (the unique sid: the next attempt finds it), or an agent saved the item meanwhile.
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task TryTakeInAsync(Guid tenantId, string sid, string number, string word, TextKeyword kind, CancellationToken cancellationToken)
    {
        if (await db.SmsKeywordTexts.AnyAsync(k => k.MessageSid == sid, cancellationToken))
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var item = kind == TextKeyword.Help ? null : await OpenItemAsync(number, cancellationToken);
        db.SmsKeywordTexts.Add(new SmsKeywordText
        {
            Id = Guid.CreateVersion7(), TenantId = tenantId, MessageSid = sid, Number = number, Keyword = word, Kind = kind, WorkItemId = item?.Id, ReceivedAt = now,
        });
        if (item is not null)
        {
            db.WorkItemMessages.Add(new WorkItemMessage
            {
                Id = Guid.CreateVersion7(),
                WorkItemId = item.Id,
                TenantId = tenantId,
                Kind = MessageKind.Note,
                AuthorName = Author,
                Body = kind == TextKeyword.OptOut
                    ? $"The customer texted {word} from {number} and opted out of texts: Twilio delivers no more to that number, and replies by text are refused until they text START."
                    : $"The customer texted {word} from {number}: texts reach them again.",
                CreatedAt = now,
            });
            WorkItemTrail.Updated(db, item, now, "WorkItemNoted");
        }

        await db.SaveChangesAsync(cancellationToken);
        relay.Wake();
    }

    /// <summary>The customer's latest SMS item still in hand that <paramref name="number"/> texted into, tracked; null when none.</summary>
    private async Task<WorkItem?> OpenItemAsync(string number, CancellationToken cancellationToken)
    {
        var itemId = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.Kind == MessageKind.Inbound && m.FromAddress == number && m.ExternalId != null && m.ExternalId.StartsWith("sms:"))
            .Join(db.WorkItems.Where(w => w.Channel == "sms" && WorkItemTrail.ActiveStatuses.Contains(w.Status)), m => m.WorkItemId, w => w.Id, (m, w) => new { w.Id, m.CreatedAt })
            .OrderByDescending(x => x.CreatedAt).Select(x => (Guid?)x.Id).FirstOrDefaultAsync(cancellationToken);
        return itemId is { } id ? await db.WorkItems.FirstOrDefaultAsync(w => w.Id == id, cancellationToken) : null;
    }

    /// <summary>Since when <paramref name="number"/> (as a reply would text it) has opted out of the tenant's texts; null when it has not.</summary>
    public async Task<DateTime?> OptedOutSinceAsync(string number, CancellationToken cancellationToken)
    {
        var key = PhoneNumbers.ToE164(number) ?? number.Trim();
        var latest = await db.SmsKeywordTexts.AsNoTracking()
            .Where(k => k.Number == key && k.Kind != TextKeyword.Help)
            .OrderByDescending(k => k.ReceivedAt).ThenByDescending(k => k.Id)
            .Select(k => new { k.Kind, k.ReceivedAt }).FirstOrDefaultAsync(cancellationToken);
        return latest is { Kind: TextKeyword.OptOut } ? latest.ReceivedAt : null;
    }
}
