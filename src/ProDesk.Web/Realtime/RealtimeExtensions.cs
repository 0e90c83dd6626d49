using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using StackExchange.Redis;

namespace ProDesk.Web.Realtime;

public static class RealtimeExtensions
{
    /// <summary>
    /// SignalR and presence in process; with ConnectionStrings:Redis, both through Redis (the SignalR
    /// backplane and <see cref="RedisAgentPresence"/>, on one shared connection) so several nodes act as one.
    /// </summary>
    public static void AddRealtime(this WebApplicationBuilder builder)
    {
        var signalR = builder.Services.AddSignalR(options => options.AddFilter<TenantHubFilter>())
            .AddJsonProtocol(options => StoredPrecisionTimes.AddTo(options.PayloadSerializerOptions.Converters));
        if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
        {
            var configuration = ConfigurationOptions.Parse(redis);
            configuration.ChannelPrefix = RedisChannel.Literal("prodesk");
            // Start even while Redis is down and reconnect in the background, rather than fail the first hub call for good.
            configuration.AbortOnConnectFail = false;
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(configuration));
            signalR.AddStackExchangeRedis();
            builder.Services.AddOptions<RedisOptions>().Configure<IConnectionMultiplexer>((options, connection) =>
                options.ConnectionFactory = _ => Task.FromResult(connection));
            builder.Services.AddSingleton(services => new RedisAgentPresence(
                services.GetRequiredService<IConnectionMultiplexer>(), services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<RedisAgentPresence>>()));
            builder.Services.AddSingleton<IAgentPresence>(services => services.GetRequiredService<RedisAgentPresence>());
            builder.Services.AddSingleton(services => new RedisChatVisitors(
                services.GetRequiredService<IConnectionMultiplexer>(), services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<RedisChatVisitors>>()));
            builder.Services.AddSingleton<IChatVisitors>(services => services.GetRequiredService<RedisChatVisitors>());
            builder.Services.AddHostedService<PresenceHeartbeat>();
        }
        else
        {
            builder.Services.AddSingleton<IAgentPresence, InMemoryAgentPresence>();
            builder.Services.AddSingleton<IChatVisitors, InMemoryChatVisitors>();
        }

        builder.Services.AddSingleton<HubSessions>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HubSessions>());
        builder.Services.AddSingleton<RecheckOnUserChange>();
        builder.Services.AddSingleton<IRealtimeNotifier, SignalRNotifier>();
        builder.Services.AddSingleton<QueueStatsAnnouncer>();
        builder.Services.AddSingleton<OutboxRelay>();
        builder.Services.AddScoped<OutboxPruning>();
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true))
        {
            builder.Services.AddHostedService(services => services.GetRequiredService<OutboxRelay>());
        }
    }

    // A connection opened with an expiring token (OAuth) ends with it instead of outliving it.
    public static void MapRealtime(this WebApplication app) =>
        app.MapHub<AgentHub>(AgentHub.Path, options => options.CloseOnAuthenticationExpiration = true);
}
