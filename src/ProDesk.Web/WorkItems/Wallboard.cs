using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// The supervisor's numbers: queue depth per tenant and queue, oldest waiting, SLA (items still in time but due within the
/// next <see cref="DueSoonWindow"/>, items in hand that missed a target or are past due), agents and what they are on.
/// </summary>
public sealed class Wallboard(ProDeskDbContext db, ITenantContext tenants, IAgentPresence presence, TimeProvider clock)
{
    public static readonly TimeSpan DueSoonWindow = TimeSpan.FromMinutes(30);

    public sealed record QueueLine(string Tenant, string TenantName, string Queue, int Open, int Unassigned, int Waiting, TimeSpan? OldestOpen, int DueSoon, int Breached);

    public sealed record AgentLine(string Name, string Status, string? OnItem);

    /// <summary>An enabled IMAP mailbox of a client in scope; <paramref name="Error"/> is set while its polling fails.</summary>
    public sealed record MailboxLine(string Tenant, string TenantName, string Mailbox, string? Error, DateTime? LastPolledAt);

    /// <summary>
    /// The enabled mailboxes of the clients in scope, failing ones first. A mailbox whose server refuses us takes in none of
    /// the client's mail, and that was shown only on /admin/mail (probe round 20): the wallboard shows it to the supervisors
    /// serving that client, and /metrics (<c>prodesk_mailbox_failing</c>) to the provider's monitoring.
    /// </summary>
    public async Task<IReadOnlyList<MailboxLine>> ReadMailboxesAsync(CancellationToken cancellationToken)
    {
        var byId = tenants.Scope.Tenants.ToDictionary(t => t.Id);
        var mailboxes = await db.Mailboxes.AsNoTracking().Where(m => m.Enabled)
            .Select(m => new { m.TenantId, m.Key, m.LastError, m.LastPolledAt }).ToListAsync(cancellationToken);
        return mailboxes.Where(m => byId.ContainsKey(m.TenantId))
            .Select(m => new MailboxLine(byId[m.TenantId].Slug, byId[m.TenantId].Name, m.Key, m.LastError, m.LastPolledAt))
            .OrderBy(m => m.Error is null).ThenBy(m => m.Tenant, StringComparer.Ordinal).ThenBy(m => m.Mailbox, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<(IReadOnlyList<QueueLine> Queues, IReadOnlyList<AgentLine> Agents)> ReadAsync(CancellationToken cancellationToken)
    {
        var lines = await ReadQueuesAsync(cancellationToken);
        var agents = await presence.OfAsync(tenants.Scope.TenantIds, cancellationToken);
        var watched = agents.SelectMany(a => a.OnItems).Distinct().ToList();
        var subjects = await db.WorkItems.AsNoTracking().Where(w => watched.Contains(w.Id)).ToDictionaryAsync(w => w.Id, w => w.Subject, cancellationToken);
        // An agent with several tabs is on every one of their items.
        return (lines, agents.Select(a => new AgentLine(a.Name, a.Status.ToString(), On(a.OnItems.Where(subjects.ContainsKey).Select(i => subjects[i] ?? "(no subject)").Order(StringComparer.Ordinal).ToList()))).ToList());

        static string? On(List<string> subjects) => subjects.Count == 0 ? null : string.Join("; ", subjects);
    }

    /// <summary>The queue lines alone (also what /metrics serves), most neglected first.</summary>
    public async Task<IReadOnlyList<QueueLine>> ReadQueuesAsync(CancellationToken cancellationToken)
    {
        var byId = tenants.Scope.Tenants.ToDictionary(t => t.Id);
        var queues = await db.Queues.AsNoTracking().ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var soon = now + DueSoonWindow;
        var counts = await db.WorkItems.AsNoTracking()
            .Where(w => WorkItemTrail.ActiveStatuses.Contains(w.Status))
            .GroupBy(w => new { w.TenantId, w.QueueId })
            .Select(g => new
            {
                g.Key.TenantId,
                g.Key.QueueId,
                Open = g.Count(w => w.Status == WorkItemStatus.Open),
                Unassigned = g.Count(w => w.Status == WorkItemStatus.Open && w.AssigneeId == null),
                Waiting = g.Count(w => w.Status != WorkItemStatus.Open),
                Oldest = g.Where(w => w.Status == WorkItemStatus.Open).Min(w => (DateTime?)w.CreatedAt),
                // Due soon is still in time; past due is breached already, recorded by the sweeper or not yet (as the
                // report and item page count it). Overdue items used to count in both columns (probe round 19).
                DueSoon = g.Count(w => w.DueAt > now && w.DueAt <= soon),
                Breached = g.Count(w => w.BreachedAt != null || w.DueAt <= now),
            })
            .ToListAsync(cancellationToken);
        return queues
            .Where(q => byId.ContainsKey(q.TenantId))
            .Select(q =>
            {
                var c = counts.FirstOrDefault(x => x.TenantId == q.TenantId && x.QueueId == q.Id);
                return new QueueLine(byId[q.TenantId].Slug, byId[q.TenantId].Name, q.Key, c?.Open ?? 0, c?.Unassigned ?? 0, c?.Waiting ?? 0, c?.Oldest is { } oldest ? now - oldest : null, c?.DueSoon ?? 0, c?.Breached ?? 0);
            })
            .OrderByDescending(l => l.OldestOpen ?? TimeSpan.Zero).ThenBy(l => l.Tenant, StringComparer.Ordinal).ThenBy(l => l.Queue, StringComparer.Ordinal)
            .ToList();
    }
}
