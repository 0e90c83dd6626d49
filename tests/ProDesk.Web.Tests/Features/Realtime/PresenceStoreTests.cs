using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProDesk.Domain.Routing;
using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;
using StackExchange.Redis;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>
/// The two presence stores behave alike (one node without Redis, the cluster with it), and the Redis
/// one is shared between nodes and forgets the connections of a node that stopped heartbeating. The
/// nodes here are store instances on the test Redis under a prefix of their own, on a fake clock.
/// </summary>
public sealed class PresenceStoreTests : IAsyncLifetime
{
    private readonly string _prefix = $"prodesk-test:presence:{Guid.NewGuid():N}:";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly List<RedisAgentPresence> _nodes = [];
    private ConnectionMultiplexer _redis = null!;

    private static readonly Guid Acme = Guid.NewGuid();
    private static readonly Guid Merlion = Guid.NewGuid();
    private static readonly Guid Bea = Guid.NewGuid();
    private static readonly Guid Chen = Guid.NewGuid();
    private static readonly Guid Alex = Guid.NewGuid();

    public async Task InitializeAsync() => _redis = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConnectionString);

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        var server = _redis.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
        {
            await _redis.GetDatabase().KeyDeleteAsync(key);
        }

        await _redis.DisposeAsync();
    }

    private RedisAgentPresence Node()
    {
        var node = new RedisAgentPresence(_redis, _clock, NullLogger<RedisAgentPresence>.Instance, _prefix);
        _nodes.Add(node);
        return node;
    }

    private RedisChatVisitors Visitors() => new(_redis, _clock, NullLogger<RedisChatVisitors>.Instance, _prefix);

    [Fact]
    public async Task A_chat_visitor_connected_through_one_node_is_here_for_every_node_until_it_leaves_or_its_node_stops_heartbeating()
    {
        var (one, other) = (Visitors(), Visitors());
        var (left, stays) = (Guid.NewGuid(), Guid.NewGuid());
        await one.ConnectedAsync(left, "tab");
        Assert.True(await other.IsConnectedAsync(left));
        Assert.True(await one.DisconnectedAsync(left, "tab"));
        Assert.False(await other.IsConnectedAsync(left));

        await one.ConnectedAsync(stays, "tab");
        await one.ConnectedAsync(stays, "other-tab");
        Assert.False(await one.DisconnectedAsync(stays, "other-tab"), "one of the visitor's tabs is still open");
        _clock.Advance(RedisAgentPresence.HeartbeatInterval);
        await one.HeartbeatAsync();
        _clock.Advance(RedisAgentPresence.ConnectionTtl - TimeSpan.FromSeconds(1));
        Assert.True(await other.IsConnectedAsync(stays), "past the first record's TTL, kept by the heartbeat");

        // The node stops heartbeating (it died): its visitor counts as gone once the TTL has passed.
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await other.IsConnectedAsync(stays));
    }

    [Fact]
    public async Task A_chat_visitor_in_one_process_is_here_while_any_of_its_connections_is_open()
    {
        var visitors = new ProDesk.Web.Channels.Chat.InMemoryChatVisitors();
        var session = Guid.NewGuid();
        await visitors.ConnectedAsync(session, "tab");
        await visitors.ConnectedAsync(session, "other-tab");
        Assert.False(await visitors.DisconnectedAsync(session, "tab"));
        Assert.True(await visitors.IsConnectedAsync(session));
        Assert.True(await visitors.DisconnectedAsync(session, "other-tab"));
        Assert.False(await visitors.IsConnectedAsync(session));
    }

    private IAgentPresence Store(string kind) => kind == "memory" ? new InMemoryAgentPresence() : Node();

    /// <summary>Name, status and the items it is on (sorted, comma-separated; "" for none).</summary>
    private static async Task<(string Name, AgentStatus Status, string OnItems)[]> ReadAsync(IAgentPresence store, params Guid[] tenants) =>
        (await store.OfAsync(tenants)).Select(a => (a.Name, a.Status, string.Join(",", a.OnItems.Order()))).ToArray();

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_agent_stays_connected_while_any_console_is_open_and_reads_offline_on_no_item_with_the_last(string kind)
    {
        var store = Store(kind);
        var item = Guid.NewGuid();
        await store.ConnectedAsync(Bea, "Bea Dubois", "tab-1", new HashSet<Guid> { Acme });
        await store.ConnectedAsync(Bea, "Bea Dubois", "tab-2", new HashSet<Guid> { Acme });
        await store.SetStatusAsync(Bea, AgentStatus.Away);
        await store.SetItemAsync(Bea, "tab-2", item);

        await store.DisconnectedAsync(Bea, "tab-1");
        Assert.Equal([("Bea Dubois", AgentStatus.Away, item.ToString())], await ReadAsync(store, Acme));

        await store.DisconnectedAsync(Bea, "tab-2");
        Assert.Equal([("Bea Dubois", AgentStatus.Offline, "")], await ReadAsync(store, Acme));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_away_agent_opening_another_page_stays_away_until_choosing_online(string kind)
    {
        var store = Store(kind);
        await store.ConnectedAsync(Bea, "Bea Dubois", "console", new HashSet<Guid> { Acme });
        await store.SetStatusAsync(Bea, AgentStatus.Away);

        // One tab: the console's connection closes before the item page's opens (probe round 20, finding 3).
        await store.DisconnectedAsync(Bea, "console");
        Assert.Equal(AgentStatus.Away, await store.ChosenAsync(Bea));
        await store.ConnectedAsync(Bea, "Bea Dubois", "item-page", new HashSet<Guid> { Acme });
        Assert.Equal([("Bea Dubois", AgentStatus.Away, "")], await ReadAsync(store, Acme));

        await store.SetStatusAsync(Bea, AgentStatus.Online);
        Assert.Equal([("Bea Dubois", AgentStatus.Online, "")], await ReadAsync(store, Acme));
        Assert.Equal(AgentStatus.Online, await store.ChosenAsync(Alex));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_agent_with_two_tabs_is_on_both_items_and_on_the_one_left_open_when_the_other_closes(string kind)
    {
        var store = Store(kind);
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        await store.ConnectedAsync(Alex, "Alex Martin", "tab-1", new HashSet<Guid> { Acme });
        await store.ConnectedAsync(Alex, "Alex Martin", "tab-2", new HashSet<Guid> { Acme });
        await store.SetItemAsync(Alex, "tab-1", x);
        await store.SetItemAsync(Alex, "tab-2", y);
        Assert.Equal([("Alex Martin", AgentStatus.Online, string.Join(",", new[] { x, y }.Order()))], await ReadAsync(store, Acme));

        await store.SetItemAsync(Alex, "tab-2", x);
        await store.DisconnectedAsync(Alex, "tab-2");

        Assert.Equal([("Alex Martin", AgentStatus.Online, x.ToString())], await ReadAsync(store, Acme));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task A_tenant_lists_only_the_agents_serving_it_most_available_first(string kind)
    {
        var store = Store(kind);
        await store.ConnectedAsync(Chen, "Chen Wei", "c", new HashSet<Guid> { Merlion });
        await store.ConnectedAsync(Bea, "Bea Dubois", "b", new HashSet<Guid> { Acme, Merlion });
        await store.ConnectedAsync(Alex, "Alex Martin", "a", new HashSet<Guid> { Acme });
        await store.SetStatusAsync(Alex, AgentStatus.Away);

        Assert.Equal([("Bea Dubois", AgentStatus.Online, ""), ("Alex Martin", AgentStatus.Away, "")], await ReadAsync(store, Acme));
        Assert.Equal(["Bea Dubois", "Chen Wei"], (await store.OfAsync([Merlion])).Select(a => a.Name));
        Assert.Equal(3, (await store.OfAsync([Acme, Merlion])).Count);

        // Bea no longer serves acme when she next connects: acme stops listing her.
        await store.DisconnectedAsync(Bea, "b");
        await store.ConnectedAsync(Bea, "Bea Dubois", "b2", new HashSet<Guid> { Merlion });
        Assert.Equal(["Alex Martin"], (await store.OfAsync([Acme])).Select(a => a.Name));
    }

    [Fact]
    public async Task What_an_agent_does_through_one_node_is_what_every_node_reads()
    {
        var (nodeA, nodeB) = (Node(), Node());
        var item = Guid.NewGuid();
        await nodeB.ConnectedAsync(Bea, "Bea Dubois", "on-b", new HashSet<Guid> { Acme });
        Assert.Equal([("Bea Dubois", AgentStatus.Online, "")], await ReadAsync(nodeA, Acme));

        await nodeB.SetStatusAsync(Bea, AgentStatus.Away);
        await nodeB.SetItemAsync(Bea, "on-b", item);
        Assert.Equal([("Bea Dubois", AgentStatus.Away, item.ToString())], await ReadAsync(nodeA, Acme));

        // A second console on node A keeps her connected (and Away) when the one on node B, on the item, closes.
        await nodeA.ConnectedAsync(Bea, "Bea Dubois", "on-a", new HashSet<Guid> { Acme });
        await nodeB.DisconnectedAsync(Bea, "on-b");
        Assert.Equal([("Bea Dubois", AgentStatus.Away, "")], await ReadAsync(nodeB, Acme));

        await nodeA.DisconnectedAsync(Bea, "on-a");
        Assert.Equal([("Bea Dubois", AgentStatus.Offline, "")], await ReadAsync(nodeB, Acme));
    }

    [Fact]
    public async Task The_agents_of_a_node_that_stops_heartbeating_go_offline_after_the_ttl_and_the_others_stay()
    {
        var (crashed, alive) = (Node(), Node());
        await crashed.ConnectedAsync(Bea, "Bea Dubois", "on-crashed", new HashSet<Guid> { Acme });
        await alive.ConnectedAsync(Alex, "Alex Martin", "on-alive", new HashSet<Guid> { Acme });

        // 40 s of heartbeats on the live node only: Bea's record, never refreshed, ran out at 30 s.
        for (var beat = 1; beat <= 4; beat++)
        {
            _clock.Advance(RedisAgentPresence.HeartbeatInterval);
            await alive.HeartbeatAsync(CancellationToken.None);
        }

        Assert.Equal([("Alex Martin", AgentStatus.Online, ""), ("Bea Dubois", AgentStatus.Offline, "")], await ReadAsync(alive, Acme));

        // She reconnects through the live node: Online again, although her old record is still in Redis.
        await alive.ConnectedAsync(Bea, "Bea Dubois", "again", new HashSet<Guid> { Acme });
        Assert.Equal(AgentStatus.Online, (await alive.OfAsync([Acme])).Single(a => a.Id == Bea).Status);
    }

    [Fact]
    public async Task A_running_node_keeps_its_agents_online_past_the_ttl()
    {
        var node = Node();
        await node.ConnectedAsync(Bea, "Bea Dubois", "tab", new HashSet<Guid> { Acme });
        using var heartbeat = new PresenceHeartbeat(node, Visitors(), _clock);
        await heartbeat.StartAsync(CancellationToken.None);
        try
        {
            for (var beat = 1; beat <= 4; beat++)
            {
                _clock.Advance(RedisAgentPresence.HeartbeatInterval);
            }

            // 40 s on: past the first record's TTL, so only a heartbeat the service sent keeps her listed
            // Online. The beat runs on the service's own task: wait for it, up to 10 s.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            var read = await ReadAsync(node, Acme);
            while (read.Single().Status != AgentStatus.Online && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
                read = await ReadAsync(node, Acme);
            }

            Assert.Equal([("Bea Dubois", AgentStatus.Online, "")], read);
        }
        finally
        {
            await heartbeat.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Connected_agents_come_back_by_the_next_heartbeat_after_redis_lost_everything()
    {
        var node = Node();
        var item = Guid.NewGuid();
        await node.ConnectedAsync(Bea, "Bea Dubois", "tab", new HashSet<Guid> { Acme });
        await node.SetItemAsync(Bea, "tab", item);
        var server = _redis.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
        {
            await _redis.GetDatabase().KeyDeleteAsync(key);
        }

        Assert.Empty(await node.OfAsync([Acme]));

        _clock.Advance(RedisAgentPresence.HeartbeatInterval);
        await node.HeartbeatAsync(CancellationToken.None);
        Assert.Equal([("Bea Dubois", AgentStatus.Online, item.ToString())], await ReadAsync(node, Acme));
    }
}
