namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// The provider's Twilio account (section <c>Sms</c>), which sends every tenant's SMS and WhatsApp
/// replies from the tenant's own number. Without <see cref="AccountSid"/> nothing is sent: replies
/// on those channels fail at once with a reason that says so.
/// </summary>
public sealed class SmsOptions
{
    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    /// <summary>Twilio's REST API; a test points it at a local stand-in.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.twilio.com");

    /// <summary>HTTP basic auth with the account's SID and auth token, as every request to Twilio's REST API (messages, media) carries.</summary>
    public System.Net.Http.Headers.AuthenticationHeaderValue BasicAuthorization() =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}")));
}
