using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Tells the wallboards of a tenant that its agents changed (came, went, status, item), at most once per
/// <see cref="Window"/> per node: announcing every connect to every console of the tenant made a morning's
/// logins quadratic (1,000 consoles connecting sent about 1.4 million messages in the fan-out benchmark).
/// </summary>
public sealed partial class QueueStatsAnnouncer : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private readonly IHubContext<AgentHub, IAgentClient> _hub;
    private readonly ILogger<QueueStatsAnnouncer> _logger;
    private readonly ConcurrentDictionary<Guid, byte> _dirty = new();
    private readonly ITimer _timer;
    private int _scheduled;

    public QueueStatsAnnouncer(IHubContext<AgentHub, IAgentClient> hub, TimeProvider clock, ILogger<QueueStatsAnnouncer> logger)
    {
        _hub = hub;
        _logger = logger;
        _timer = clock.CreateTimer(_ => _ = FlushAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Announce(IEnumerable<Guid> tenantIds)
    {
        foreach (var id in tenantIds)
        {
            _dirty[id] = 0;
        }

        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _timer.Change(Window, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _timer.Dispose();

    private async Task FlushAsync()
    {
        Interlocked.Exchange(ref _scheduled, 0);
        var groups = new List<string>();
        foreach (var id in _dirty.Keys)
        {
            if (_dirty.TryRemove(id, out _))
            {
                groups.Add(HubGroups.Tenant(id));
            }
        }

        try
        {
            if (groups.Count > 0)
            {
                await _hub.Clients.Groups(groups).QueueStats(new QueueStatsEvent(null));
            }
        }
        catch (Exception e)
        {
            // A lost announcement costs a wallboard one refresh; the next change announces again.
            LogFailed(_logger, e);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Announcing agent changes to wallboards failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
