using Microsoft.AspNetCore.SignalR;
using ProDesk.Web.Tests.Infrastructure;
using StackExchange.Redis;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>With ConnectionStrings:Redis set, hub messages travel through Redis, so every node sees them.</summary>
public sealed class RedisBackplaneTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_hub_message_is_published_through_redis()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConnectionString);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern("prodesk*"), (channel, _) => received.TrySetResult(channel.ToString()));

        var manager = App.Services.GetRequiredService<HubLifetimeManager<BackplaneProbeHub>>();
        Assert.Contains("Redis", manager.GetType().Name, StringComparison.Ordinal);
        await manager.SendAllAsync("Ping", ["hello"]);

        var channel = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(nameof(BackplaneProbeHub), channel, StringComparison.Ordinal);
    }

    public sealed class BackplaneProbeHub : Hub;
}
