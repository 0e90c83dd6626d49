using Microsoft.Extensions.Http.Resilience;
using ProDesk.Web.Channels.Chat;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Channels.Sms;
using ProDesk.Web.Channels.Voice;
using ProDesk.Web.Channels.WebForm;

namespace ProDesk.Web.Channels;

public static class ChannelsExtensions
{
    /// <summary>The one ingestion path, the channel adapters in front of it, and the dispatcher that sends replies out.</summary>
    public static void AddChannels(this WebApplicationBuilder builder)
    {
        // Mail arrives in windows-125x, ISO-2022-JP, GB18030, Big5...: registered before MimeKit's first charset lookup,
        // because MimeKit remembers a charset it could not find (the parser registers them too, for its own fallback).
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        builder.Services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection("Smtp"));
        builder.Services.AddOptions<EmailOptions>().Bind(builder.Configuration.GetSection("Email"));
        builder.Services.AddSingleton<ChannelSettingsCache>();
        builder.Services.AddScoped<IngestMessage>();
        builder.Services.AddScoped<IngestEmail>();
        builder.Services.AddScoped<DiscardQuarantinedMail>();
        builder.Services.AddSingleton<RawMailStore>();
        builder.Services.AddScoped<RawMailRetention>();
        builder.Services.AddScoped<ReplyDelivery>();
        builder.Services.AddScoped<UndeliveredReplies>();
        builder.Services.AddScoped<SmsOptOuts>();
        builder.Services.AddScoped<TwilioMedia>();
        builder.Services.AddSingleton<IOutboundSender, SmtpEmailSender>();
        builder.Services.AddSingleton<OutboundDispatcher>();
        builder.Services.AddOptions<WebFormOptions>().Bind(builder.Configuration.GetSection("WebForm"));
        builder.Services.AddSingleton<WebFormRateLimit>();
        builder.Services.AddOptions<SmsOptions>().Bind(builder.Configuration.GetSection("Sms"));
        // Timeouts and a circuit breaker, but no retry of the (non-idempotent) POST: the dispatcher retries with backoff.
        builder.Services.AddHttpClient(TwilioSmsGateway.HttpClientName).AddStandardResilienceHandler(o => o.Retry.DisableForUnsafeHttpMethods());
        builder.Services.AddSingleton<ISmsGateway, TwilioSmsGateway>();
        builder.Services.AddSingleton<IOutboundSender, SmsSender>();
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
        app.MapAcknowledgmentApi();
        app.MapMailboxApi();
        app.MapWebForm();
        app.MapTwilioInbound();
        app.MapVoiceCalls();
        app.MapTwilioStatus();
        app.MapChat();
    }
}
