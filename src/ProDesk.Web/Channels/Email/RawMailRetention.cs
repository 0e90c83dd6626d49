using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Deletes the raw bytes of mail received more than <c>Email:RawRetentionDays</c> (default 90; 0 keeps them forever) ago
/// that was taken in or dropped, across all tenants (recurring job, reentrant): every inbound mail is written to disk
/// whole before anything else, and was kept for good. Quarantined mail keeps its bytes, however old: it may be
/// reprocessed. The ledger row stays (it is the dedupe key and says what became of the mail), marked with when its bytes
/// went; the message's files are the item's, stored apart, and stay. The store is content-addressed, so bytes another
/// row of the tenant still needs (quarantined, or not yet due) are left on disk. Oldest first, in batches; the files go
/// before the rows are marked, so a run cut short is finished by the next.
/// </summary>
public sealed partial class RawMailRetention(
    ProDeskDbContext db, TenantScopes scopes, RawMailStore store, TimeProvider clock, IOptions<EmailOptions> options, ILogger<RawMailRetention> logger)
{
    private const int BatchSize = 500;

    // At most 100,000 mails a run: a first run on a large ledger is worked off over the next runs.
    private const int MaxBatches = 200;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RawRetentionDays;
        if (days <= 0)
        {
            return 0;
        }

        var before = clock.GetUtcNow().UtcDateTime - TimeSpan.FromDays(days);
        using var system = TenantScopes.Enter(await scopes.ForSystemAsync("raw-mail-retention", cancellationToken));
        var removed = 0;
        for (var batch = 0; batch < MaxBatches; batch++)
        {
            var due = await db.InboundMails.AsNoTracking()
                .Where(m => m.RawRemovedAt == null && m.ReceivedAt < before && m.State != InboundMailState.Quarantined)
                .OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).Take(BatchSize)
                .Select(m => new { m.Id, m.TenantId, m.RawSha256 }).ToListAsync(cancellationToken);
            if (due.Count == 0)
            {
                break;
            }

            var ids = due.Select(m => m.Id).ToList();
            var hashes = due.Select(m => m.RawSha256).Distinct().ToList();
            var stillNeeded = (await db.InboundMails.AsNoTracking()
                    .Where(m => hashes.Contains(m.RawSha256) && !ids.Contains(m.Id) && m.RawRemovedAt == null
                        && (m.State == InboundMailState.Quarantined || m.ReceivedAt >= before))
                    .Select(m => new { m.TenantId, m.RawSha256 }).ToListAsync(cancellationToken))
                .Select(m => (m.TenantId, m.RawSha256)).ToHashSet();
            foreach (var mail in due.Where(m => !stillNeeded.Contains((m.TenantId, m.RawSha256))))
            {
                File.Delete(store.PathOf(mail.TenantId, mail.RawSha256));
            }

            var now = clock.GetUtcNow().UtcDateTime;
            removed += await db.InboundMails.Where(m => ids.Contains(m.Id) && m.RawRemovedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.RawRemovedAt, now), cancellationToken);
            if (due.Count < BatchSize)
            {
                break;
            }
        }

        if (removed > 0)
        {
            LogRemoved(logger, removed, days);
        }

        return removed;
    }

    /// <summary>
    /// Why the mail <paramref name="mailId"/> of the tenant in scope cannot be downloaded or reprocessed because its raw
    /// copy is gone ("raw copy removed after N days"); null when there is no such mail or its bytes are kept.
    /// </summary>
    public static async Task<string?> WhyGoneAsync(ProDeskDbContext db, Guid mailId, CancellationToken cancellationToken)
    {
        var mail = await db.InboundMails.AsNoTracking().Where(m => m.Id == mailId && m.RawRemovedAt != null)
            .Select(m => new { m.State, m.ReceivedAt, m.RawRemovedAt }).FirstOrDefaultAsync(cancellationToken);
        return mail is null ? null
            : $"raw copy removed after {(int)(mail.RawRemovedAt!.Value - mail.ReceivedAt).TotalDays} days (the mail was {mail.State.ToString().ToLowerInvariant()})";
    }

    [LoggerMessage(LogLevel.Information, "Deleted the raw copies of {Count} inbound mails received more than {Days} days ago")]
    private static partial void LogRemoved(ILogger logger, int count, int days);
}
