using System.Collections.Concurrent;
using System.Globalization;
using ProDesk.Domain.Routing;
using StackExchange.Redis;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Presence in Redis, shared by every node (ConnectionStrings:Redis). The keys are the same on every
/// node, under <see cref="DefaultPrefix"/>:
/// <list type="bullet">
/// <item><c>agent:{id}</c>, a hash: name, status, onItem, tenants (comma-separated ids).</item>
/// <item><c>agent:{id}:connections</c>, a sorted set of <c>{node}:{connection id}</c> scored by the
/// time the record expires (Unix ms). Each node pushes its own connections' expiry forward every
/// <see cref="HeartbeatInterval"/> (<see cref="PresenceHeartbeat"/>); a node that dies stops doing so,
/// and its connections count as gone <see cref="ConnectionTtl"/> later. An agent is connected while
/// any record is unexpired; with none its status reads Offline, whatever the hash says.</item>
/// <item><c>tenant:{id}</c>, a set of the agents serving that tenant, so a wallboard's read is one
/// SUNION plus one pipelined round of HGETALL and ZCOUNT. An agent's own tenants decide: a stale
/// member is skipped and removed.</item>
/// </list>
/// Connect, disconnect and set are Lua scripts, so "first connection: Online" and "last one gone:
/// Offline" hold with connections on several nodes at once. The node also remembers its own
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

    // KEYS: agent hash, connections. ARGV: member, now, expires, name, tenants, forget seconds.
    private const string ConnectedScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
        redis.call('ZREM', KEYS[2], ARGV[1])
        if redis.call('ZCARD', KEYS[2]) == 0 then
          redis.call('HSET', KEYS[1], 'status', 'Online')
          redis.call('HDEL', KEYS[1], 'onItem')
        end
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        redis.call('HSET', KEYS[1], 'name', ARGV[4], 'tenants', ARGV[5])
        redis.call('EXPIRE', KEYS[1], ARGV[6])
        redis.call('EXPIRE', KEYS[2], ARGV[6])
        return 1
        """;

    // KEYS: agent hash, connections. ARGV: member, now.
    private const string DisconnectedScript = """
        redis.call('ZREM', KEYS[2], ARGV[1])
        if redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[2], '+inf') == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
          redis.call('HSET', KEYS[1], 'status', 'Offline')
          redis.call('HDEL', KEYS[1], 'onItem')
        end
        return 1
        """;

    // KEYS: agent hash. ARGV: status or '', item id or 'left' or ''.
    private const string SetScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'status', ARGV[1]) end
        if ARGV[2] == 'left' then redis.call('HDEL', KEYS[1], 'onItem')
        elseif ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'onItem', ARGV[2]) end
        return 1
        """;

    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, LocalConnection> _local = new(StringComparer.Ordinal);

    // A heartbeat must not re-add a connection that closed while it was being sent.
    private readonly SemaphoreSlim _heartbeat = new(1, 1);

    private sealed record LocalConnection(Guid AgentId, string Name, IReadOnlySet<Guid> Tenants);

    public async Task ConnectedAsync(Guid id, string name, string connectionId, IReadOnlySet<Guid> tenants, CancellationToken cancellationToken = default)
    {
        try
        {
            var now = clock.GetUtcNow();
            var batch = redis.GetDatabase().CreateBatch();
            var writes = TenantWrites(batch, id, tenants);
            writes.Add(batch.ScriptEvaluateAsync(ConnectedScript, [AgentKey(id), ConnectionsKey(id)],
                [Member(connectionId), UnixMs(now), UnixMs(now + ConnectionTtl), name, Join(tenants), (long)Forget.TotalSeconds]));
            batch.Execute();
            await Task.WhenAll(writes);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(ConnectedAsync), e);
        }

        // After the script: a heartbeat must not count this connection before "first connection" was decided.
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
            await redis.GetDatabase().ScriptEvaluateAsync(DisconnectedScript, [AgentKey(id), ConnectionsKey(id)], [Member(connectionId), UnixMs(clock.GetUtcNow())]);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // The record expires with its TTL.
            LogFailed(logger, nameof(DisconnectedAsync), e);
        }
    }

    public async Task SetAsync(Guid id, AgentStatus? status = null, Guid? onItem = null, bool leftItem = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(SetScript, [AgentKey(id)],
                [status?.ToString() ?? "", leftItem ? "left" : onItem?.ToString("D") ?? ""]);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            LogFailed(logger, nameof(SetAsync), e);
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
                Live: batch.SortedSetLengthAsync(ConnectionsKey(id), now, double.PositiveInfinity, Exclude.Start))).ToList();
            batch.Execute();
            await Task.WhenAll(reads.SelectMany(r => new Task[] { r.Hash, r.Live }));

            var agents = new List<AgentSnapshot>();
            foreach (var (id, hash, live) in reads)
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

                var connected = await live > 0;
                var status = connected && fields.TryGetValue("status", out var s) && Enum.TryParse<AgentStatus>(s, out var parsed) ? parsed : AgentStatus.Offline;
                var onItem = connected && fields.TryGetValue("onItem", out var item) && Guid.TryParse(item, out var itemId) ? itemId : (Guid?)null;
                agents.Add(new AgentSnapshot(id, name, status, onItem, serves));
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
                var (id, name, tenants) = agent.Last().Value;
                writes.AddRange(TenantWrites(batch, id, tenants));
                writes.Add(batch.HashSetAsync(AgentKey(id), [new HashEntry("name", name), new HashEntry("tenants", Join(tenants))]));
                writes.Add(batch.HashSetAsync(AgentKey(id), "status", nameof(AgentStatus.Online), When.NotExists));
                writes.Add(batch.SortedSetAddAsync(ConnectionsKey(id), agent.Select(c => new SortedSetEntry(Member(c.Key), expires)).ToArray()));
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
