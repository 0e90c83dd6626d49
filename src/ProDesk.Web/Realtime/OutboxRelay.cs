using ProDesk.Web.Metrics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Publishes outbox events after their transaction committed: reads unpublished rows oldest first,
/// sends them through <see cref="IRealtimeNotifier"/>, marks them published. A crash between send
/// and mark sends an event again (at least once); consoles apply events by item version, so a
/// repeat is harmless. <see cref="Wake"/> lets a node publish its own writes at once; other nodes'
/// writes are picked up by the short poll.
/// </summary>
public sealed partial class OutboxRelay(IServiceScopeFactory scopes, ProDeskMetrics metrics, TimeProvider clock, ILogger<OutboxRelay> logger) : WakeablePollingService(PollInterval)
{
    private const string SlaWarning = nameof(IAgentClient.SlaWarning);
    private const string SlaBreached = nameof(IAgentClient.SlaBreached);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    // Events per pass: each pass costs three statements whatever its size.
    private const int BatchSize = 500;

    protected override async Task<bool> PassAsync(CancellationToken cancellationToken) => await PublishBatchAsync(cancellationToken) > 0;

    protected override void OnPassFailed(Exception exception)
    {
        LogFailed(logger, exception);
        metrics.JobFailed("outbox-relay");
    }

    /// <summary>Publishes up to one batch; returns how many events it sent.</summary>
    public async Task<int> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        using var system = TenantScopes.Enter(await services.GetRequiredService<TenantScopes>().ForSystemAsync("outbox-relay", cancellationToken));
        var db = services.GetRequiredService<ProDeskDbContext>();
        // Every statement of a pass on one connection: under heavy ingestion every checkout waits its turn in the pool,
        // and a relay that waited three times per batch fell seconds behind the desk (benchmark D). On it, one relay
        // at a time across nodes: two nodes each read the same unpublished rows and sent every event twice (probe
        // round 9); the other node's relay waits, then finds them marked.
        return await db.Database.OnOneConnectionAsync(async () =>
        {
            await using var onlyUs = await KeyedLock.HoldAcrossNodesAsync(db, LockKey, cancellationToken);
            return await PublishAsync(db, services, cancellationToken);
        }, cancellationToken);
    }

    private const string LockKey = "outbox-relay";

    private async Task<int> PublishAsync(ProDeskDbContext db, IServiceProvider services, CancellationToken cancellationToken)
    {
        var batch = await db.OutboxEvents.AsNoTracking().Where(e => e.PublishedAt == null).OrderBy(e => e.Id).Take(BatchSize).ToListAsync(cancellationToken);
        var events = batch.Select(e => (Event: e, ItemId: ItemId(e))).ToList();
        if (events.Count == 0)
        {
            return 0;
        }

        var itemIds = events.Select(e => e.ItemId).OfType<Guid>().Distinct().ToList();
        var items = await db.WorkItems.AsNoTracking().Where(w => itemIds.Contains(w.Id)).ToDictionaryAsync(w => w.Id, cancellationToken);

        var notifier = services.GetRequiredService<IRealtimeNotifier>();
        var store = services.GetRequiredService<ITenantStore>();
        foreach (var (outboxEvent, itemId) in events)
        {
            if (itemId is { } id && items.TryGetValue(id, out var item) && await store.FindByIdAsync(item.TenantId, cancellationToken) is { } tenant)
            {
                if (outboxEvent.Type is SlaWarning or SlaBreached)
                {
                    var fired = JsonSerializer.Deserialize<Sla.SlaSweeper.Fired>(outboxEvent.PayloadJson)!;
                    await notifier.SlaFiredAsync(item.TenantId, outboxEvent.Type, new SlaEvent(
                        tenant.Slug, item.Id, item.Subject, fired.Target, fired.Percent, fired.DueAt, fired.NotifySupervisors), cancellationToken);
                }
                else
                {
                    await notifier.WorkItemChangedAsync(item.TenantId, outboxEvent.Type, new WorkItemEvent(
                        tenant.Slug, item.Id, item.Subject, item.Status.ToString(), item.Priority.ToString(), item.AssigneeId, item.Version, item.Channel), cancellationToken);
                }
            }
        }

        // One statement marks the whole batch (an UPDATE per event was a round trip per event).
        var published = events.Select(e => e.Event.Id).ToList();
        var now = clock.GetUtcNow().UtcDateTime;
        await db.OutboxEvents.Where(e => published.Contains(e.Id)).ExecuteUpdateAsync(set => set.SetProperty(e => e.PublishedAt, now), cancellationToken);
        return events.Count;
    }

    private static Guid? ItemId(OutboxEvent outboxEvent)
    {
        using var payload = JsonDocument.Parse(outboxEvent.PayloadJson);
        return payload.RootElement.TryGetProperty("Id", out var id) && id.TryGetGuid(out var value) ? value : null;
    }

    [LoggerMessage(LogLevel.Error, "Publishing outbox events failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
