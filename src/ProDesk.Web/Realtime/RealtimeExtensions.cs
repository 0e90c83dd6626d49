using Microsoft.AspNetCore.SignalR;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Realtime;

public static class RealtimeExtensions
{
    /// <summary>SignalR in process; with ConnectionStrings:Redis, through the Redis backplane so several nodes act as one.</summary>
    public static void AddRealtime(this WebApplicationBuilder builder)
    {
        var signalR = builder.Services.AddSignalR(options => options.AddFilter<TenantHubFilter>());
        if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
        {
            signalR.AddStackExchangeRedis(redis, options => options.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal("prodesk"));
        }

        builder.Services.AddSingleton<IRealtimeNotifier, SignalRNotifier>();
        builder.Services.AddSingleton<AgentPresence>();
        builder.Services.AddSingleton<OutboxRelay>();
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true))
        {
            builder.Services.AddHostedService(services => services.GetRequiredService<OutboxRelay>());
        }
    }

    public static void MapRealtime(this WebApplication app) =>
        app.MapHub<AgentHub>(AgentHub.Path);
}
