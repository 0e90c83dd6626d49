using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Outbound;

namespace ProDesk.Web.Channels;

public static class ChannelsExtensions
{
    /// <summary>The one ingestion path, the channel adapters in front of it, and the dispatcher that sends replies out.</summary>
    public static void AddChannels(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection("Smtp"));
        builder.Services.AddOptions<EmailOptions>().Bind(builder.Configuration.GetSection("Email"));
        builder.Services.AddScoped<IngestMessage>();
        builder.Services.AddScoped<IngestEmail>();
        builder.Services.AddSingleton<RawMailStore>();
        builder.Services.AddScoped<ReplyDelivery>();
        builder.Services.AddSingleton<IOutboundSender, SmtpEmailSender>();
        builder.Services.AddSingleton<OutboundDispatcher>();
        builder.Services.AddSingleton<MailboxPoller>();
        builder.Services.AddScoped<MailboxPolling>();
        builder.AddChat();
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true) && builder.Configuration.GetValue("Email:Watch", true))
        {
            builder.Services.AddHostedService<MailboxWatcher>();
        }

        // Channels:Dispatcher=false leaves sending to whoever calls OutboundDispatcher.SendDueAsync, as the tests do.
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true) && builder.Configuration.GetValue("Channels:Dispatcher", true))
        {
            builder.Services.AddHostedService(services => services.GetRequiredService<OutboundDispatcher>());
        }
    }

    public static void MapChannels(this IEndpointRouteBuilder app)
    {
        app.MapEmailInbound();
        app.MapQuarantineApi();
        app.MapMailboxApi();
        app.MapChat();
    }
}
