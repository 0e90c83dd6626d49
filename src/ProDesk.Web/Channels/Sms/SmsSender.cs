using ProDesk.Data.Channels;
using ProDesk.Domain.Channels.Sms;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// Replies on the SMS and WhatsApp channels, from the tenant's own number to the contact's. A reply
/// longer than one gateway message goes as several, in order; a retry after a partial failure
/// sends every part again (delivery is at least once, as for mail).
/// </summary>
/// <remarks>Each part asks Twilio to report its delivery to <see cref="TwilioStatusApi"/>, naming the outbound row.</remarks>
public sealed class SmsSender(ISmsGateway gateway, ITenantStore tenants, IConfiguration configuration) : IOutboundSender
{
    public IReadOnlyCollection<string> Channels { get; } = ["sms", "whatsapp"];

    public const string NoNumberError = "the tenant has no SMS number to send from";

    public static string NotE164Error(string to) => $"'{ColumnText.Fit(to, 40)}' is not an international (E.164) phone number";

    public async Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.SmsNumber))
        {
            throw new PermanentSendFailureException(NoNumberError);
        }

        if (!PhoneNumbers.IsE164(message.To))
        {
            throw new PermanentSendFailureException(NotE164Error(message.To));
        }

        var from = PhoneNumbers.ToTwilioAddress(message.Channel, settings.SmsNumber.Trim());
        var to = PhoneNumbers.ToTwilioAddress(message.Channel, message.To);
        var callback = TwilioStatusApi.PublicOrigin(configuration) is { } origin && await tenants.FindByIdAsync(message.TenantId, cancellationToken) is { } tenant
            ? TwilioStatusApi.CallbackUrl(origin, tenant.Slug, message.Id)
            : null;
        foreach (var part in SmsSegments.Split(message.Body))
        {
            await gateway.SendAsync(new SmsRequest(from, to, part, callback), cancellationToken);
        }
    }
}
