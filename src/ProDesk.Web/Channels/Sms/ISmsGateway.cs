namespace ProDesk.Web.Channels.Sms;

/// <summary>One message to a phone: addresses as the gateway wants them (Twilio: E.164, <c>whatsapp:</c>-prefixed for WhatsApp).</summary>
/// <param name="StatusCallback">Where the gateway reports the message's delivery (<see cref="TwilioStatusApi"/>); null for nowhere.</param>
public sealed record SmsRequest(string From, string To, string Body, Uri? StatusCallback = null);

/// <summary>The gateway's id of the message it accepted.</summary>
public sealed record SmsReceipt(string? Sid);

/// <summary>
/// The SMS/WhatsApp provider behind a thin interface (DESIGN.md example 6). Throws
/// <see cref="Outbound.PermanentSendFailureException"/> when the provider refuses for good (an
/// invalid or unreachable number); any other exception means "try again later".
/// </summary>
public interface ISmsGateway
{
    /// <summary>Why nothing can be sent at all (no account configured), or null: a reply is refused at once, not queued to fail.</summary>
    string? Unavailable { get; }

    Task<SmsReceipt> SendAsync(SmsRequest request, CancellationToken cancellationToken);
}
