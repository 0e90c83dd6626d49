using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Token buckets for the visitor hub's calls (ASP.NET Core's rate limiting middleware sees only the
/// HTTP requests, not the messages inside a WebSocket) and a count of open connections per IP. In
/// memory, per node: a load balancer spreading one IP over N nodes allows it N times the numbers,
/// which still bounds a flood. Idle buckets are dropped by the limiter itself.
/// </summary>
public sealed class ChatLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _messagesPerIp;
    private readonly PartitionedRateLimiter<Guid> _messagesPerWidget;
    private readonly PartitionedRateLimiter<(Guid Tenant, string Ip)> _conversationsPerIp;
    private readonly PartitionedRateLimiter<string> _readsPerIp;
    private readonly ConcurrentDictionary<string, int> _connections = new(StringComparer.Ordinal);
    private readonly int _connectionsPerIp;

    public ChatLimits(IOptions<ChatOptions> options)
    {
        var o = options.Value;
        _connectionsPerIp = o.ConnectionsPerIp;
        _messagesPerIp = PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetTokenBucketLimiter(ip, _ =>
            Bucket(o.MessagesPerMinutePerIp, TimeSpan.FromMinutes(1) / Math.Max(1, o.MessagesPerMinutePerIp))));
        _messagesPerWidget = PartitionedRateLimiter.Create<Guid, Guid>(tenant => RateLimitPartition.GetTokenBucketLimiter(tenant, _ =>
            Bucket(o.MessagesPerSecondPerWidget * 10, TimeSpan.FromSeconds(1) / Math.Max(1, o.MessagesPerSecondPerWidget))));
        // Per client and address: an office or a carrier's shared address chatting with one client leaves the others' allowance alone.
        _conversationsPerIp = PartitionedRateLimiter.Create<(Guid, string), (Guid, string)>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ =>
            Bucket(o.ConversationsPerHourPerIp, TimeSpan.FromHours(1) / Math.Max(1, o.ConversationsPerHourPerIp))));
        _readsPerIp = PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetTokenBucketLimiter(ip, _ =>
            Bucket(o.ReadsPerMinutePerIp, TimeSpan.FromMinutes(1) / Math.Max(1, o.ReadsPerMinutePerIp))));
    }

    /// <summary>Takes one read (status, pre-chat, resume) from the IP's bucket: a script looping on them costs the database.</summary>
    public bool TryRead(string ip)
    {
        using var lease = _readsPerIp.AttemptAcquire(ip);
        return lease.IsAcquired;
    }

    /// <summary>Takes one message from the IP's bucket and the widget's; false when either is empty, with when to try again.</summary>
    public bool TryMessage(string ip, Guid tenantId, out TimeSpan retryAfter)
    {
        using var perIp = _messagesPerIp.AttemptAcquire(ip);
        if (!perIp.IsAcquired)
        {
            retryAfter = RetryAfter(perIp);
            return false;
        }

        using var perWidget = _messagesPerWidget.AttemptAcquire(tenantId);
        retryAfter = RetryAfter(perWidget);
        return perWidget.IsAcquired;
    }

    /// <summary>Takes one new conversation (a pre-chat or offline form) from the bucket of this client and address.</summary>
    public bool TryConversation(string ip, Guid tenantId, out TimeSpan retryAfter)
    {
        using var lease = _conversationsPerIp.AttemptAcquire((tenantId, ip));
        retryAfter = RetryAfter(lease);
        return lease.IsAcquired;
    }

    // What the limiter says of a refused lease; at least a second, so the visitor is never told "try again in 0 seconds".
    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.IsAcquired ? TimeSpan.Zero
        : lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.FromSeconds(1) ? after
        : TimeSpan.FromSeconds(1);

    /// <summary>Counts a connection of <paramref name="ip"/> in; false (and not counted) when it already has the most allowed.</summary>
    public bool TryOpenConnection(string ip)
    {
        while (true)
        {
            var open = _connections.GetOrAdd(ip, 0);
            if (open >= _connectionsPerIp)
            {
                return false;
            }

            if (_connections.TryUpdate(ip, open + 1, open))
            {
                return true;
            }
        }
    }

    public void CloseConnection(string ip)
    {
        while (_connections.TryGetValue(ip, out var open))
        {
            if (open <= 1 ? _connections.TryRemove(new KeyValuePair<string, int>(ip, open)) : _connections.TryUpdate(ip, open - 1, open))
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _messagesPerIp.Dispose();
        _messagesPerWidget.Dispose();
        _conversationsPerIp.Dispose();
        _readsPerIp.Dispose();
    }

    // Full at first (the burst), then one token every interval; no queueing: a refused call fails at once.
    private static TokenBucketRateLimiterOptions Bucket(int size, TimeSpan every) => new()
    {
        TokenLimit = Math.Max(1, size),
        TokensPerPeriod = 1,
        ReplenishmentPeriod = every < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : every,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
