using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ProDesk.Web.Channels.Outbound;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// Twilio's Messages API: <c>POST {BaseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json</c> with
/// From, To, Body and StatusCallback as a form, HTTP basic auth with the account's SID and auth token; 201 with the
/// message resource, or an error object <c>{ code, message, more_info, status }</c>.
/// </summary>
/// <remarks>
/// Refusals about the message itself (a 4xx such as 21211 invalid 'To', 21610 unsubscribed, 21408
/// region not enabled) are permanent. 401/403 (credentials, a suspended account), 408, 429 and 5xx
/// are an operator's or Twilio's problem of the moment and are retried by the dispatcher. The HTTP
/// client's resilience handler adds timeouts and a circuit breaker but does not retry the POST, which
/// is not idempotent: retries are the dispatcher's, with its backoff and its record of attempts.
/// </remarks>
public sealed partial class TwilioSmsGateway(IHttpClientFactory clients, IOptions<SmsOptions> options, ILogger<TwilioSmsGateway> logger) : ISmsGateway
{
    public const string HttpClientName = "twilio";

    public string? Unavailable =>
        string.IsNullOrWhiteSpace(options.Value.AccountSid) || string.IsNullOrEmpty(options.Value.AuthToken)
            ? "no SMS gateway is configured: set Sms:AccountSid and Sms:AuthToken"
            : null;

    public async Task<SmsReceipt> SendAsync(SmsRequest request, CancellationToken cancellationToken)
    {
        var account = options.Value;
        if (string.IsNullOrWhiteSpace(account.AccountSid) || string.IsNullOrEmpty(account.AuthToken))
        {
            throw new PermanentSendFailureException(Unavailable!);
        }

        var url = new Uri($"{account.BaseUrl.AbsoluteUri.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(account.AccountSid)}/Messages.json");
        List<KeyValuePair<string, string>> fields = [new("From", request.From), new("To", request.To), new("Body", request.Body)];
        if (request.StatusCallback is { } callback)
        {
            fields.Add(new("StatusCallback", callback.AbsoluteUri));
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        message.Headers.Authorization = account.BasicAuthorization();
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await clients.CreateClient(HttpClientName).SendAsync(message, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            var sid = Read(text, "sid");
            LogSent(logger, sid);
            return new SmsReceipt(sid);
        }

        var status = (int)response.StatusCode;
        var reason = $"Twilio answered {status}" + (Read(text, "code") is { } code ? $", error {code}" : "") + (Read(text, "message") is { } why ? $": {why}" : "");
        if (status is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
        {
            throw new PermanentSendFailureException(reason);
        }

        throw new HttpRequestException(reason, null, response.StatusCode);
    }

    /// <summary>A top-level string or number property of a JSON body, or null (bodies from proxies may not be JSON).</summary>
    private static string? Read(string json, string property)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out var value)
                ? value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number => value.GetRawText(),
                    _ => null,
                }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Twilio accepted message {Sid}")]
    private static partial void LogSent(ILogger logger, string? sid);
}
