using System.Collections.Concurrent;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>Each outbox event reaches the consoles once, however many nodes run a relay on the same database.</summary>
public sealed class OutboxRelayTests(ProDeskApp app) : PostgresTest(app)
{
    /// <summary>Counts what the relays send, per event (type and item version).</summary>
    private sealed class CountingNotifier : IRealtimeNotifier
    {
        public ConcurrentDictionary<(string Type, Guid Item, int Version), int> Sent { get; } = new();

        public Task WorkItemChangedAsync(Guid tenantId, string type, WorkItemEvent item, CancellationToken cancellationToken = default)
        {
            Sent.AddOrUpdate((type, item.Id, item.Version), 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }

        public Task SlaFiredAsync(Guid tenantId, string type, SlaEvent sla, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task ItemPresenceAsync(PresenceEvent presence, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    [Fact]
    public async Task Relays_of_several_nodes_publishing_at_once_send_each_event_once()
    {
        var notifier = new CountingNotifier();
        using var node = App.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRealtimeNotifier>(notifier)));
        var client = await node.IntegrationClientAsync("acme");
        var items = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            items.Add(await client.CreateConversationAsync("acme", $"relay-{i}"));
        }

        // The shared test host's own relay (sending elsewhere) would take the backlog first on a busy machine: it rests
        // while the nodes under test share it.
        var shared = App.Services.GetRequiredService<OutboxRelay>();
        await shared.StopAsync(CancellationToken.None);
        try
        {
            await PublishBacklogAsync(node, notifier, items);
        }
        finally
        {
            await shared.StartAsync(CancellationToken.None);
        }
    }

    private async Task PublishBacklogAsync(WebApplicationFactory<Program> node, CountingNotifier notifier, List<Guid> items)
    {
        // A backlog of one event per item and type, written at once, as a busy desk leaves it for the relays.
        var acme = await App.TenantAsync("acme");
        var types = Enumerable.Range(0, 20).Select(n => $"Relay{n}").ToList();
        await App.InTenantAsync("acme", db =>
        {
            db.OutboxEvents.AddRange(items.SelectMany(id => types.Select(type => new OutboxEvent
            {
                TenantId = acme.Id, Type = type, PayloadJson = $"{{\"Id\":\"{id}\"}}", CreatedAt = DateTime.UtcNow,
            })));
            return db.SaveChangesAsync();
        });

        // Four relays (four nodes) at once, beside the node's own, then until nothing is left.
        var relay = node.Services.GetRequiredService<OutboxRelay>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => relay.PublishBatchAsync(CancellationToken.None)));
        while (await relay.PublishBatchAsync(CancellationToken.None) > 0)
        {
        }

        var backlog = notifier.Sent.Where(s => s.Key.Type.StartsWith("Relay", StringComparison.Ordinal)).ToList();
        Assert.Equal(items.Count * types.Count, backlog.Count);
        Assert.All(backlog, s => Assert.Equal(1, s.Value));
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.OutboxEvents.CountAsync(e => e.PublishedAt == null)));
    }
}
