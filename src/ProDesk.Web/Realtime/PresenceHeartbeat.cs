using ProDesk.Web.Channels.Chat;

namespace ProDesk.Web.Realtime;

/// <summary>
/// Keeps this node's presence records alive in Redis: agents' (<see cref="RedisAgentPresence.HeartbeatAsync"/>) and chat
/// visitors' (<see cref="RedisChatVisitors.HeartbeatAsync"/>).
/// </summary>
public sealed class PresenceHeartbeat(RedisAgentPresence presence, RedisChatVisitors visitors, TimeProvider clock) : BackgroundService
{
    // Created with the service, not when ExecuteAsync gets to run (on the thread pool): the beat is
    // counted from the start, and a test's clock can move as soon as the service exists.
    private readonly PeriodicTimer _timer = new(RedisAgentPresence.HeartbeatInterval, clock);

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken))
            {
                await presence.HeartbeatAsync(stoppingToken);
                await visitors.HeartbeatAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
