using System.Collections.Concurrent;
using System.Globalization;
using ProDesk.Domain.Routing;
using StackExchange.Redis;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Presence in Redis, shared by every node (ConnectionStrings:Redis). The keys are the same on every
/// node, under <see cref="DefaultPrefix"/>:
/// <list type="bullet">
/// <item><c>agent:{id}</c>, a hash: name, chosen (the status the agent chose), tenants (comma-separated ids).</item>
/// <item><c>agent:{id}:items</c>, a hash of <c>{node}:{connection id}</c> to the item that connection's page is on.</item>
/// <item><c>agent:{id}:connections</c>, a sorted set of <c>{node}:{connection id}</c> scored by the
/// time the record expires (Unix ms). Each node pushes its own connections' expiry forward every
/// <see cref="HeartbeatInterval"/> (<see cref="PresenceHeartbeat"/>); a node that dies stops doing so,
/// and its connections count as gone <see cref="ConnectionTtl"/> later. An agent is connected while
/// any record is unexpired; with none its status reads Offline, whatever it chose, and it is on no item.</item>
/// <item><c>tenant:{id}</c>, a set of the agents serving that tenant, so a wallboard's read is one
/// SUNION plus one pipelined round of HGETALL and ZCOUNT. An agent's own tenants decide: a stale
/// member is skipped and removed.</item>
/// </list>
/// Connect, disconnect and set are Lua scripts, so a connection's record and its item change together
/// with connections on several nodes at once. A connection never changes the chosen status (only
/// <see cref="SetStatusAsync"/> does), so an Away agent opening a page stays Away (probe round 20). The node also remembers its own
/// connections and re-writes their records on each heartbeat, so presence comes back by itself after
/// Redis restarts empty or was unreachable. When Redis fails a call, the failure is logged and the
/// read returns no agents (push work waits for pull) rather than failing the hub or the request.
/// Expiry times come from <see cref="TimeProvider"/>, so nodes' clocks need to agree to well within
/// the TTL (NTP).
/// </summary>
public sealed partial class RedisAgentPresence(IConnectionMultiplexer redis, TimeProvider clock, ILogger<RedisAgentPresence> logger, string keyPrefix = RedisAgentPresence.DefaultPrefix)
    : IAgentPresence, IDisposable
{
    public const string DefaultPrefix = "prodesk:presence:";

    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan ConnectionTtl = TimeSpan.FromSeconds(30);

    /// <summary>How long an agent nobody has connected as stays listed (Offline) before its keys expire.</summary>
    public static readonly TimeSpan Forget = TimeSpan.FromHours(12);

    // KEYS: agent hash, connections, items. ARGV: member, now, expires, name, tenants, forget seconds.
    // "status" and "onItem" were the hash's fields before the chosen status and the per-connection items (round 20).
    private const string ConnectedScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        for _, member in ipairs(redis.call('HKEYS', KEYS[3])) do
          if not redis.call('ZSCORE', KEYS[2], member) then redis.call('HDEL', KEYS[3], member) end
        end
        redis.call('HSETNX', KEYS[1], 'chosen', 'Online')
        redis.call('HDEL', KEYS[1], 'status', 'onItem')
        redis.call('HSET', KEYS[1], 'name', ARGV[4], 'tenants', ARGV[5])
        redis.call('EXPIRE', KEYS[1], ARGV[6])
        redis.call('EXPIRE', KEYS[2], ARGV[6])
        redis.call('EXPIRE', KEYS[3], ARGV[6])
        return 1
        """;

    // KEYS: connections, items. ARGV: member.
    private const string DisconnectedScript = """
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        return 1
        """;

    // KEYS: agent hash. ARGV: status.
    private const string SetStatusScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        redis.call('HSET', KEYS[1], 'chosen', ARGV[1])
        return 1
        """;

    // KEYS: connections, items. ARGV: member, item id or '' (none), forget seconds.
    private const string SetItemScript = """
        if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
        if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1])
        else
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
          redis.call('EXPIRE', KEYS[2], ARGV[3])
        end
        return 1
        """;

    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, LocalConnection> _local = new(StringComparer.Ordinal);

    // A heartbeat must not re-add a connection that closed while it was being sent.
    private readonly SemaphoreSlim _heartbeat = new(1, 1);

    private sealed record LocalConnection(Guid AgentId, string Name, IReadOnlySet<Guid> Tenants, Guid? Item = null);

    public async Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default)
    {
        try
        {
            var now = clock.GetUtcNow();
            var batch = redis.GetDatabase().CreateBatch();
            var writes = TenantWrites(batch, id, tenants);
            writes.Add(batch.ScriptEvaluateAsync(ConnectedScript, [AgentKey(id), ConnectionsKey(id), ItemsKey(id)],
                [Member(connectionId), UnixMs(now), UnixMs(now + ConnectionTtl), name, Join(tenants), (long)Forget.TotalSeconds]));
            batch.Execute();
            await Task.WhenAll(writes);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(ConnectedAsync), e);
        }

        // After the script, which starts the connection on no item.
        _local[connectionId] = new LocalConnection(id, name, tenants);
    }

    public async Task DisconnectedAsync(Guid id, string connectionId, CancellationToken cancellationToken = default)
    {
        await _heartbeat.WaitAsync(cancellationToken);
        try
        {
            _local.TryRemove(connectionId, out _);
        }
        finally
        {
            _heartbeat.Release();
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(DisconnectedScript, [ConnectionsKey(id), ItemsKey(id)], [Member(connectionId)]);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // The record expires with its TTL.
            LogFailed(logger, nameof(DisconnectedAsync), e);
        }
    }

    public async Task SetStatusAsync(Guid id, AgentStatus status, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(SetStatusScript, [AgentKey(id)], [status.ToString()]);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(SetStatusAsync), e);
        }
    }

    public async Task SetItemAsync(Guid id, string connectionId, Guid? item, CancellationToken cancellationToken = default)
    {
        await _heartbeat.WaitAsync(cancellationToken);
        try
        {
            // Remembered for the heartbeat, which writes it again after Redis lost it.
            if (_local.TryGetValue(connectionId, out var local))
            {
                _local[connectionId] = local with { Item = item };
            }
        }
        finally
        {
            _heartbeat.Release();
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(SetItemScript, [ConnectionsKey(id), ItemsKey(id)],
                [Member(connectionId), item?.ToString("D") ?? "", (long)Forget.TotalSeconds]);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(SetItemAsync), e);
        }
    }

    public async Task<AgentStatus> ChosenAsync(Guid id, CancellationToken cancellationToken = default)
    {
        try
        {
            var chosen = await redis.GetDatabase().HashGetAsync(AgentKey(id), "chosen");
            return Enum.TryParse<AgentStatus>(chosen.ToString(), out var status) ? status : AgentStatus.Online;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(ChosenAsync), e);
            return AgentStatus.Online;
        }
    }

    public async Task<IReadOnlyList<AgentSnapshot>> OfAsync(IReadOnlyCollection<Guid> tenants, CancellationToken cancellationToken = default)
    {
        if (tenants.Count == 0)
        {
            return [];
        }

        try
        {
            var db = redis.GetDatabase();
            var members = await db.SetCombineAsync(SetOperation.Union, tenants.Select(TenantKey).ToArray());
            var ids = members.Select(m => Guid.TryParse(m.ToString(), out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList();
            if (ids.Count == 0)
            {
                return [];
            }

            var now = UnixMs(clock.GetUtcNow());
            var batch = db.CreateBatch();
            var reads = ids.Select(id => (Id: id,
                Hash: batch.HashGetAllAsync(AgentKey(id)),
                Live: batch.SortedSetRangeByScoreAsync(ConnectionsKey(id), now, double.PositiveInfinity, Exclude.Start),
                Items: batch.HashGetAllAsync(ItemsKey(id)))).ToList();
            batch.Execute();
            await Task.WhenAll(reads.SelectMany(r => new Task[] { r.Hash, r.Live, r.Items }));

            var agents = new List<AgentSnapshot>();
            foreach (var (id, hash, live, items) in reads)
            {
                var fields = (await hash).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
                var serves = fields.TryGetValue("tenants", out var csv) ? Split(csv) : new HashSet<Guid>();
                if (!fields.TryGetValue("name", out var name) || !serves.Overlaps(tenants))
                {
                    // Forgotten, or no longer serving these tenants: not theirs to show.
                    foreach (var tenant in tenants.Where(t => !serves.Contains(t)))
                    {
                        _ = db.SetRemoveAsync(TenantKey(tenant), id.ToString("D"), CommandFlags.FireAndForget);
                    }

                    continue;
                }

                var connections = (await live).Select(m => m.ToString()).ToHashSet(StringComparer.Ordinal);
                var status = connections.Count == 0 ? AgentStatus.Offline
                    : fields.TryGetValue("chosen", out var s) && Enum.TryParse<AgentStatus>(s, out var parsed) ? parsed : AgentStatus.Online;
                // Only live connections' items: a dead node's tab is on nothing.
                var onItems = (await items).Where(e => connections.Contains(e.Name.ToString()))
                    .Select(e => Guid.TryParse(e.Value.ToString(), out var item) ? item : Guid.Empty).Where(item => item != Guid.Empty).ToHashSet();
                agents.Add(new AgentSnapshot(id, name, status, onItems, serves));
            }

            return AgentSnapshot.MostAvailableFirst(agents);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(OfAsync), e);
            return [];
        }
    }

    /// <summary>
    /// Pushes the expiry of this node's connections forward and re-writes their agents' records (which
    /// brings them back if Redis lost them). <see cref="PresenceHeartbeat"/> calls it every <see cref="HeartbeatInterval"/>.
    /// </summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await _heartbeat.WaitAsync(cancellationToken);
        try
        {
            if (_local.IsEmpty)
            {
                return;
            }

            var expires = UnixMs(clock.GetUtcNow() + ConnectionTtl);
            var batch = redis.GetDatabase().CreateBatch();
            var writes = new List<Task>();
            foreach (var agent in _local.GroupBy(c => c.Value.AgentId))
            {
                var (id, name, tenants, _) = agent.Last().Value;
                writes.AddRange(TenantWrites(batch, id, tenants));
                writes.Add(batch.HashSetAsync(AgentKey(id), [new HashEntry("name", name), new HashEntry("tenants", Join(tenants))]));
                writes.Add(batch.HashSetAsync(AgentKey(id), "chosen", nameof(AgentStatus.Online), When.NotExists));
                writes.Add(batch.SortedSetAddAsync(ConnectionsKey(id), agent.Select(c => new SortedSetEntry(Member(c.Key), expires)).ToArray()));
                var onItems = agent.Where(c => c.Value.Item is not null).Select(c => new HashEntry(Member(c.Key), c.Value.Item!.Value.ToString("D"))).ToArray();
                if (onItems.Length > 0)
                {
                    writes.Add(batch.HashSetAsync(ItemsKey(id), onItems));
                    writes.Add(batch.KeyExpireAsync(ItemsKey(id), Forget));
                }

                writes.Add(batch.KeyExpireAsync(AgentKey(id), Forget));
                writes.Add(batch.KeyExpireAsync(ConnectionsKey(id), Forget));
            }

            batch.Execute();
            await Task.WhenAll(writes);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(HeartbeatAsync), e);
        }
        finally
        {
            _heartbeat.Release();
        }
    }

    public void Dispose() => _heartbeat.Dispose();

    private List<Task> TenantWrites(IBatch batch, Guid id, IReadOnlySet<Guid> tenants)
    {
        var writes = new List<Task>();
        foreach (var tenant in tenants)
        {
            writes.Add(batch.SetAddAsync(TenantKey(tenant), id.ToString("D")));
            writes.Add(batch.KeyExpireAsync(TenantKey(tenant), Forget));
        }

        return writes;
    }

    private RedisKey AgentKey(Guid id) => $"{keyPrefix}agent:{id:D}";

    private RedisKey ConnectionsKey(Guid id) => $"{keyPrefix}agent:{id:D}:connections";

    private RedisKey ItemsKey(Guid id) => $"{keyPrefix}agent:{id:D}:items";

    private RedisKey TenantKey(Guid id) => $"{keyPrefix}tenant:{id:D}";

    private string Member(string connectionId) => $"{_node}:{connectionId}";

    private static long UnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static string Join(IEnumerable<Guid> ids) => string.Join(',', ids.Select(id => id.ToString("D")));

    private static HashSet<Guid> Split(string csv) =>
        csv.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Guid.TryParse(s, CultureInfo.InvariantCulture, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToHashSet();

    private static bool IsRedisFailure(Exception e) => e is RedisException or TimeoutException or ObjectDisposedException;

    [LoggerMessage(LogLevel.Warning, "Presence in Redis: {Operation} failed; this node's connections are written again on its next heartbeat")]
    private static partial void LogFailed(ILogger logger, string operation, Exception exception);
}
