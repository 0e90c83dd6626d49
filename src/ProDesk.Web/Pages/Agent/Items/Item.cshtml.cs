using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Sla;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Hosting;
using ProDesk.Web.Security;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Agent.Items;

/// <summary>One item in the console: its thread, reply box, note, status; presence shows live.</summary>
[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class ItemModel(ProDeskDbContext db, ITenantContext tenantContext, ProDeskPaths paths) : PageModel
{
    private ILookup<Guid?, WorkItemAttachment> byMessage = Array.Empty<WorkItemAttachment>().ToLookup(a => a.WorkItemMessageId);

    public WorkItem Item { get; private set; } = null!;

    public TenantInfo Tenant { get; private set; } = null!;

    public IReadOnlyList<WorkItemStatus> Moves { get; private set; } = [];

    /// <summary>The client's queues (key, name), for moving the item to another.</summary>
    public IReadOnlyList<(Guid Id, string Key, string Name)> Queues { get; private set; } = [];

    public IReadOnlyList<WorkItemAttachment> Attachments { get; private set; } = [];

    /// <summary>Who the item is assigned to, by name; null when no one.</summary>
    public string? AssigneeName { get; private set; }

    /// <summary>Who the item is from: the contact's name, address and number, as agents need them to answer.</summary>
    public ProDesk.Data.Contacts.Contact? Contact { get; private set; }

    /// <summary>The contact's further addresses and numbers (a merge's, staff's), after its own.</summary>
    public IReadOnlyList<string> OtherIdentities { get; private set; } = [];

    /// <summary>How many of the contact's other items the page lists, most recently active first.</summary>
    public const int OtherItemsShown = 10;

    public sealed record OtherItem(Guid Id, string Subject, string Status, string Channel, DateTime UpdatedAt);

    /// <summary>
    /// The contact's other items, closed ones too (one more than shown says there are more): a customer writing again
    /// after a conversation closed opens a new item, and the agent needs the old one at hand (probe round 20).
    /// </summary>
    public IReadOnlyList<OtherItem> OtherItems { get; private set; } = [];

    /// <summary>The closed item this one follows up, and the items that follow this one up (<see cref="WorkItems.FollowUps"/>).</summary>
    public WorkItems.FollowUps.Links FollowUpLinks { get; private set; } = new(null, []);

    /// <summary>The item's custom field values, labelled as the tenant defines its fields (a key it no longer defines shows as the key).</summary>
    public IReadOnlyList<(string Label, string Value)> Fields { get; private set; } = [];

    /// <summary>The messages, oldest first.</summary>
    public IEnumerable<WorkItemMessage> Thread => Item.Messages.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id);

    /// <summary>
    /// Whether a message's quoted history is folded: not when it is a forward that opened the item ("FW:", "Fwd:"), whose
    /// "history" (Outlook's From/Sent block over the forwarded mail) is the request itself, not a thread the page shows (probe round 19);
    /// and never an agent's reply or note, which quotes only what the agent chose to ("On Monday the engineer wrote:", probe round 20).
    /// </summary>
    public bool FoldsHistory(WorkItemMessage message) =>
        message.Kind == MessageKind.Inbound && !OpensWithForward(Item.Subject, Thread.FirstOrDefault()?.Id, message.Id);

    private static bool OpensWithForward(string subject, Guid? first, Guid message) => first == message && ProDesk.Web.Channels.ReplySubject.IsForward(subject);

    /// <summary>How each reply fared on its channel, by message id.</summary>
    public IReadOnlyDictionary<Guid, Deliveries.Delivery> DeliveriesByMessage { get; private set; } = new Dictionary<Guid, Deliveries.Delivery>();

    /// <summary>Files that came with <paramref name="messageId"/> (a mail's attachments), or with none (agents' uploads) when null.</summary>
    public IEnumerable<WorkItemAttachment> AttachmentsOf(Guid? messageId) => byMessage[messageId];

    /// <summary>The item's files a reply sent to the customer, in the order sent.</summary>
    public IEnumerable<WorkItemAttachment> SentWith(Guid messageId) =>
        (DeliveriesByMessage.GetValueOrDefault(messageId)?.Files ?? []).SelectMany(id => Attachments.Where(a => a.Id == id));

    public string AttachmentUrl(WorkItemAttachment file) => $"/api/v1/tenants/{Tenant.Slug}/work-items/{Item.Id}/attachments/{file.Id}";

    /// <summary>Where the sandboxed frame of a mail's HTML loads it from (<see cref="OnGetMailAsync"/>).</summary>
    public string MailUrl(WorkItemMessage message, bool images = false) =>
        $"/agent/items/{Tenant.Slug}/{Item.Id}?handler=Mail&message={message.Id}{(images ? "&images=true" : "")}";

    /// <summary>
    /// One SLA target's clock as the agent reads it: what it is, where it stands (<paramref name="Words"/>, then the moment
    /// <paramref name="At"/> the page shows in the agent's own time zone, then <paramref name="After"/>), and whether it was missed.
    /// </summary>
    public sealed record SlaLine(string Target, string Label, string Words, DateTime? At, string After, bool Breached);

    /// <summary>The item's SLA clocks (PRODUCT.md: agents see the SLA clock of every item), as the API's <c>sla</c> reads them.</summary>
    public IReadOnlyList<SlaLine> Sla { get; private set; } = [];

    /// <summary>The customer's satisfaction rating of the latest rated solve, as the API's <c>csat</c>; null when none.</summary>
    public ProDesk.Web.Csat.ItemCsatView? Csat { get; private set; }

    /// <summary>The signed-in member of staff, for "Assign to me".</summary>
    public Guid Me { get; private set; }

    /// <summary>
    /// Whether the signed-in member of staff may take a colleague's item (<see cref="WorkItems.AssignWorkItem"/>: supervisors
    /// and provider admins); an agent is not offered what the route would refuse.
    /// </summary>
    public bool MayTakeOver => TenantAccess.IsProviderWide(User);

    /// <summary>Staff serving the item's client, whom a supervisor can hand the item to; empty for agents, who only take or release.</summary>
    public IReadOnlyList<(Guid Id, string Name)> Assignable { get; private set; } = [];

    /// <summary>Where a reply by mail goes: the customer's address and the copies (<see cref="ReplyDelivery.CopiesAsync"/>); null for other channels.</summary>
    public (string To, IReadOnlyList<string> Cc)? MailRecipients { get; private set; }

    /// <summary>The number an SMS reply would go to, when the customer opted out by texting STOP: replies by text are refused; null otherwise.</summary>
    public string? OptedOutNumber { get; private set; }

    public async Task<IActionResult> OnGetAsync(
        Guid id, [FromServices] ReplyDelivery replies, [FromServices] SlaEngine sla, [FromServices] TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Me = Guid.TryParse(User.FindFirst(Identity.ProDeskClaims.Subject)?.Value, out var me) ? me : Guid.Empty;
        if (TenantAccess.IsProviderWide(User))
        {
            Assignable = await AssignableAsync(cancellationToken);
        }

        var now = clock.GetUtcNow();
        Sla = [.. (await sla.StatesAsync(Item, cancellationToken)).States.Select(s => Line(s, now))];
        Csat = await ProDesk.Web.Csat.CsatApi.OfItemAsync(db, id, cancellationToken);
        FollowUpLinks = await WorkItems.FollowUps.OfAsync(db, Item, cancellationToken);
        if (Contact is { } contact)
        {
            OtherIdentities = await db.ContactIdentities.AsNoTracking().Where(i => i.ContactId == contact.Id)
                .OrderBy(i => i.CreatedAt).ThenBy(i => i.Value).Select(i => i.Value).ToListAsync(cancellationToken);
            OtherItems = await db.WorkItems.AsNoTracking().Where(w => w.ContactId == contact.Id && w.Id != id)
                .OrderByDescending(w => w.UpdatedAt).ThenByDescending(w => w.Id).Take(OtherItemsShown + 1)
                .Select(w => new OtherItem(w.Id, w.Subject, w.Status.ToString(), w.Channel, w.UpdatedAt)).ToListAsync(cancellationToken);
        }

        OptedOutNumber = await replies.OptedOutNumberAsync(Item.Id, Item.Channel, Item.ContactId, cancellationToken);
        if (ReplyDelivery.ChannelOf(Item.Channel) == "email" && ReplyAddress.Normalize(Contact?.Email) is { } to)
        {
            MailRecipients = (to, await replies.CopiesAsync(Item, to, cancellationToken));
        }

        return Page();
    }

    /// <summary>Staff who may work this tenant (<see cref="WorkItems.AssignWorkItem.ServesAsync"/> says the same), by name.</summary>
    private async Task<IReadOnlyList<(Guid Id, string Name)>> AssignableAsync(CancellationToken cancellationToken)
    {
        var staff = await db.Users.AsNoTracking().Where(u => u.TenantId == null).Select(u => new { u.Id, u.DisplayName }).ToListAsync(cancellationToken);
        var roles = await db.UserRoles.AsNoTracking().Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var serving = (await db.StaffTenants.AsNoTracking().Where(s => s.TenantId == Tenant.Id).Select(s => s.UserId).ToListAsync(cancellationToken)).ToHashSet();
        bool Serves(Guid id) => roles.Any(r => r.UserId == id && (r.Name is Roles.ProviderAdmin or Roles.Supervisor || (r.Name == Roles.Agent && serving.Contains(id))));
        return [.. staff.Where(u => Serves(u.Id)).OrderBy(u => u.DisplayName, StringComparer.CurrentCulture).Select(u => (u.Id, u.DisplayName))];
    }

    private static SlaLine Line(SlaClockState state, DateTimeOffset now)
    {
        var (words, at, after) = state.Status switch
        {
            SlaClockStatus.Running => ("due", state.DueAt, ""),
            SlaClockStatus.Paused => ("paused since", state.PausedSince, " (waiting on the customer)"),
            SlaClockStatus.Met => ("met", state.EndedAt, ""),
            _ => ("stopped", null, ""),
        };
        var breached = state.IsBreachedAsOf(now);
        var label = state.Target switch
        {
            SlaTarget.FirstResponse => "First response",
            SlaTarget.NextResponse => "Next response",
            _ => "Resolution",
        };
        return new SlaLine(state.Target.ApiName(), label, words, at?.UtcDateTime, breached ? $"{after} · breached" : after, breached);
    }

    /// <summary>The thread alone, for the page to redraw it when the item changes.</summary>
    public async Task<IActionResult> OnGetThreadAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Partial("_Thread", this) : NotFound();

    /// <summary>
    /// One mail's sanitized HTML as a document of its own, shown in a sandboxed frame. Not srcdoc:
    /// a srcdoc frame inherits the console's policy, whose style-src (nonce only) would strip the
    /// mail's style attributes; a document of its own gets the frame policy below instead, which
    /// allows inline styles and images but no script, no plugin, no form, no same-origin access.
    /// </summary>
    /// <param name="images">The agent asked to see the mail's remote images.</param>
    public async Task<IActionResult> OnGetMailAsync(Guid id, Guid message, bool images, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is null
            || await db.WorkItemMessages.AsNoTracking().Where(m => m.Id == message && m.WorkItemId == id && m.HtmlBody != null)
                .Select(m => m.HtmlBody).FirstOrDefaultAsync(cancellationToken) is not { } html)
        {
            return NotFound();
        }

        html = await InlineImages.InlineAsync(html, id, message, db, paths, cancellationToken);
        MailFrame.ApplyHeaders(Response.Headers, remoteImages: images);
        // The earlier thread a reply quotes is folded away, as in the plain-text view (QuotedHistory); the item's first message is shown whole (FoldsHistory).
        var subject = await db.WorkItems.AsNoTracking().Where(w => w.Id == id).Select(w => w.Subject).FirstAsync(cancellationToken);
        var first = ProDesk.Web.Channels.ReplySubject.IsForward(subject)
            ? await db.WorkItemMessages.AsNoTracking().Where(m => m.WorkItemId == id).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).Select(m => (Guid?)m.Id).FirstAsync(cancellationToken)
            : null;
        return Content(MailFrame.Document(OpensWithForward(subject, first, message) ? html : QuotedHistory.FoldHtml(html)), "text/html; charset=utf-8");
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        // The route's tenant is the scope (resolution middleware): another tenant's item is not found.
        if (tenantContext.Current is not { } tenant
            || await db.WorkItems.AsNoTracking().Include(w => w.Messages).FirstOrDefaultAsync(w => w.Id == id, cancellationToken) is not { } item)
        {
            return false;
        }

        Tenant = tenant;
        Item = item;
        Moves = WorkItemStatusMachine.MovesFrom(item.Status);
        Queues = (await db.Queues.AsNoTracking().OrderBy(q => q.Name).Select(q => new { q.Id, q.Key, q.Name }).ToListAsync(cancellationToken))
            .Select(q => (q.Id, q.Key, q.Name)).ToList();
        Attachments = await db.WorkItemAttachments.AsNoTracking().Where(a => a.WorkItemId == id).OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(cancellationToken);
        byMessage = Attachments.ToLookup(a => a.WorkItemMessageId);
        DeliveriesByMessage = await Deliveries.OfItemAsync(db, id, cancellationToken);
        AssigneeName = item.AssigneeId is { } assignee
            ? await db.Users.AsNoTracking().Where(u => u.Id == assignee).Select(u => u.DisplayName).FirstOrDefaultAsync(cancellationToken)
            : null;
        Contact = item.ContactId is { } contactId
            ? await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken)
            : null;
        Fields = FieldsOf(tenant, item.CustomFieldsJson);
        return true;
    }

    private static List<(string Label, string Value)> FieldsOf(TenantInfo tenant, string json)
    {
        using var values = System.Text.Json.JsonDocument.Parse(string.IsNullOrEmpty(json) ? "{}" : json);
        if (values.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return [];
        }

        var labels = WorkItems.CustomFields.Of(tenant).ToDictionary(d => d.Key, d => d.Label, StringComparer.Ordinal);
        return [.. values.RootElement.EnumerateObject().Select(p => (
            labels.GetValueOrDefault(p.Name) ?? p.Name,
            p.Value.ValueKind == System.Text.Json.JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText()))];
    }
}
