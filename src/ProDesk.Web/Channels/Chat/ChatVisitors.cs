using System.Collections.Concurrent;
using StackExchange.Redis;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Which visitor sessions have a chat connection open now, on any node. A session is here from when one of its
/// connections resumes or sends (and joins the session's group, where replies arrive) until the last such connection
/// closes: a visitor who has left gets an agent's reply by mail (<see cref="Outbound.ReplyDelivery"/>). One node keeps it
/// in the process (<see cref="InMemoryChatVisitors"/>); with ConnectionStrings:Redis every node reads the same records
/// (<see cref="RedisChatVisitors"/>), since the visitor's connection may be on another node than the agent's request.
/// </summary>
public interface IChatVisitors
{
    Task ConnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default);

    /// <summary>The connection closed; true when it was the session's last one here.</summary>
    Task<bool> DisconnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default);

    Task<bool> IsConnectedAsync(Guid sessionId, CancellationToken cancellationToken = default);
}

internal sealed class InMemoryChatVisitors : IChatVisitors
{
    private readonly Dictionary<Guid, HashSet<string>> _sessions = [];

    public Task ConnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default)
    {
        lock (_sessions)
        {
            if (!_sessions.TryGetValue(sessionId, out var connections))
            {
                _sessions[sessionId] = connections = new HashSet<string>(StringComparer.Ordinal);
            }

            connections.Add(connectionId);
        }

        return Task.CompletedTask;
    }

    public Task<bool> DisconnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default)
    {
        lock (_sessions)
        {
            if (_sessions.TryGetValue(sessionId, out var connections) && connections.Remove(connectionId) && connections.Count == 0)
            {
                _sessions.Remove(sessionId);
                return Task.FromResult(true);
            }

            return Task.FromResult(false);
        }
    }

    public Task<bool> IsConnectedAsync(Guid sessionId, CancellationToken cancellationToken = default)
    {
        lock (_sessions)
        {
            return Task.FromResult(_sessions.ContainsKey(sessionId));
        }
    }
}

/// <summary>
/// Visitor sessions in Redis: <c>{session}</c> under <see cref="DefaultPrefix"/>, a sorted set of <c>{node}:{connection id}</c>
/// scored by when the record expires (Unix ms), as agents' connections are kept (<see cref="Realtime.RedisAgentPresence"/>):
/// each node pushes its own connections' expiry forward on the presence heartbeat, so a node that dies stops counting
/// <see cref="Realtime.RedisAgentPresence.ConnectionTtl"/> later. When Redis fails a read, the visitor counts as here:
/// the reply stays in the chat, as it did before replies were mailed, rather than mailing someone still chatting.
/// </summary>
public sealed partial class RedisChatVisitors(IConnectionMultiplexer redis, TimeProvider clock, ILogger<RedisChatVisitors> logger, string keyPrefix = RedisChatVisitors.DefaultPrefix)
    : IChatVisitors
{
    public const string DefaultPrefix = "prodesk:chat-visitors:";

    private readonly string _node = Guid.NewGuid().ToString("N");

    private readonly ConcurrentDictionary<(Guid Session, string Connection), byte> _local = new();

    public async Task ConnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default)
    {
        _local[(sessionId, connectionId)] = 0;
        await WriteAsync("connect", async db =>
        {
            await db.SortedSetAddAsync(Key(sessionId), Member(connectionId), Expiry());
            await db.KeyExpireAsync(Key(sessionId), Realtime.RedisAgentPresence.Forget);
        });
    }

    public async Task<bool> DisconnectedAsync(Guid sessionId, string connectionId, CancellationToken cancellationToken = default)
    {
        _local.TryRemove((sessionId, connectionId), out _);
        await WriteAsync("disconnect", db => db.SortedSetRemoveAsync(Key(sessionId), Member(connectionId)));
        return !await IsConnectedAsync(sessionId, cancellationToken);
    }

    public async Task<bool> IsConnectedAsync(Guid sessionId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.GetDatabase().SortedSetLengthAsync(Key(sessionId), clock.GetUtcNow().ToUnixTimeMilliseconds(), double.PositiveInfinity) > 0;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFailed(logger, "read", e);
            return true;
        }
    }

    /// <summary>Pushes this node's connections' expiry forward (<see cref="Realtime.PresenceHeartbeat"/>).</summary>
    public async Task HeartbeatAsync()
    {
        if (_local.IsEmpty)
        {
            return;
        }

        var expires = Expiry();
        var batch = redis.GetDatabase().CreateBatch();
        var writes = _local.Keys.GroupBy(k => k.Session)
            .SelectMany(session => new Task[]
            {
                batch.SortedSetAddAsync(Key(session.Key), session.Select(c => new SortedSetEntry(Member(c.Connection), expires)).ToArray()),
                batch.KeyExpireAsync(Key(session.Key), Realtime.RedisAgentPresence.Forget),
            }).ToList();
        batch.Execute();
        await WriteAsync("heartbeat", _ => Task.WhenAll(writes));
    }

    private async Task WriteAsync(string operation, Func<IDatabase, Task> write)
    {
        try
        {
            await write(redis.GetDatabase());
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFailed(logger, operation, e);
        }
    }

    private double Expiry() => (clock.GetUtcNow() + Realtime.RedisAgentPresence.ConnectionTtl).ToUnixTimeMilliseconds();

    private RedisKey Key(Guid sessionId) => $"{keyPrefix}{sessionId:N}";

    private RedisValue Member(string connectionId) => $"{_node}:{connectionId}";

    [LoggerMessage(LogLevel.Warning, "Chat visitors in Redis: {Operation} failed; this node's connections are written again on its next heartbeat")]
    private static partial void LogFailed(ILogger logger, string operation, Exception exception);
}
