using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Deletes outbox events published more than <c>Outbox:RetentionDays</c> (default 7) ago, across all tenants
/// (recurring job, reentrant). The relay reads only unpublished events; without this the table grew by one
/// row per change forever. The days kept are for an operator asking what was sent. Unpublished events are
/// never deleted, however old. Deletes in batches, oldest first along the key, so no statement runs long.
/// </summary>
public sealed partial class OutboxPruning(ProDeskDbContext db, TenantScopes scopes, TimeProvider clock, IConfiguration configuration, ILogger<OutboxPruning> logger)
{
    private const int BatchSize = 5_000;

    // At most a million rows a run: a backlog (a first run on a large table) is worked off over the next runs.
    private const int MaxBatches = 200;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var retention = TimeSpan.FromDays(Math.Max(1, configuration.GetValue("Outbox:RetentionDays", 7)));
        var before = clock.GetUtcNow().UtcDateTime - retention;
        using var system = TenantScopes.Enter(await scopes.ForSystemAsync("outbox-pruning", cancellationToken));
        var deleted = 0;
        for (var batch = 0; batch < MaxBatches; batch++)
        {
            var oldest = db.OutboxEvents.Where(e => e.PublishedAt != null && e.PublishedAt < before).OrderBy(e => e.Id).Select(e => e.Id).Take(BatchSize);
            var count = await db.OutboxEvents.Where(e => oldest.Contains(e.Id)).ExecuteDeleteAsync(cancellationToken);
            deleted += count;
            if (count < BatchSize)
            {
                break;
            }
        }

        if (deleted > 0)
        {
            LogPruned(logger, deleted, retention.TotalDays);
        }

        return deleted;
    }

    [LoggerMessage(LogLevel.Information, "Deleted {Count} outbox events published more than {Days} days ago")]
    private static partial void LogPruned(ILogger logger, int count, double days);
}
