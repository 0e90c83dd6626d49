using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using ProDesk.Domain.Channels.Sms;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// Twilio's inbound webhook for SMS and WhatsApp (CONTRACT.md): a form with From, To, Body,
/// MessageSid, NumMedia and MediaUrlN (listed as links, and fetched from Twilio after the message is stored:
/// <see cref="TwilioMedia"/>), signed with the tenant's auth token in X-Twilio-Signature.
/// Each text becomes a message on the contact's open conversation on that channel (or a new one);
/// Twilio's retries of the same MessageSid store nothing new. A keyword text (STOP, START, HELP) opens no item
/// (<see cref="SmsOptOuts"/>).
/// </summary>
public static class TwilioInboundApi
{
    private static readonly string[] SidNames = ["MessageSid", "SmsMessageSid", "SmsSid"];

    /// <summary>The scheme, host and any path prefix Twilio calls, when a proxy in front changes what the app sees.</summary>
    public const string PublicBaseUrlSetting = "Channels:PublicBaseUrl";

    /// <summary>An empty TwiML answer: nothing to reply automatically; agents answer from the desk.</summary>
    public const string EmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

    private const int MaxMedia = 10;

    private const int MaxBodyBytes = 64 * 1024;

    public static void MapTwilioInbound(this IEndpointRouteBuilder app)
    {
        app.MapPost("/channels/sms/{tenant}/twilio", InboundAsync)
            .WithMetadata(new NoTenantAttribute(), new NoUserAuthenticationAttribute()).DisableAntiforgery().AllowAnonymous()
            .WithTags("Channels").WithName("InboundTwilio")
            .WithSummary("Twilio's inbound SMS/WhatsApp webhook (form), signed in X-Twilio-Signature with the tenant's SMS auth token; answers empty TwiML. The same MessageSid twice stores one message.");
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> InboundAsync(string tenant, HttpContext context, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var (read, problem) = await ReadFormAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var form = read!;
        var found = await ChannelTenant.FindAsync(context, tenant);
        using var scope = ChannelTenant.Enter(context, found);
        var settings = await ChannelTenant.SettingsAsync(context, found);
        if (found is null || string.IsNullOrEmpty(settings?.SmsAuthToken) || !IsSigned(context, form, configuration[PublicBaseUrlSetting], settings.SmsAuthToken))
        {
            return Refused();
        }

        var sid = form["MessageSid"].FirstOrDefault() ?? form["SmsMessageSid"].FirstOrDefault() ?? form["SmsSid"].FirstOrDefault();
        var from = form["From"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(sid) || string.IsNullOrWhiteSpace(from))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not an inbound message", detail: "MessageSid, From: both required");
        }

        if (sid.Length > 64 || !sid.All(char.IsAsciiLetterOrDigit))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not an inbound message", detail: "MessageSid: at most 64 letters and digits");
        }

        // Twilio's signature joins names and values with nothing between, so a captured request re-split
        // ("MessageSid=SMx&NumMedia=0" sent as "MessageSid=SMxNumMedia0") keeps its signature and would pass the dedupe as
        // a new message (probe round 17). Twilio names the sid up to three times: they must agree.
        if (SidNames.Any(name => form[name] is { Count: > 0 } named && (named.Count > 1 || named[0] != sid)))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not an inbound message", detail: "MessageSid: SmsMessageSid and SmsSid, when sent, must name the same message");
        }

        var (channel, number) = PhoneNumbers.FromTwilioAddress(from);
        if (!PhoneNumbers.IsSender(number))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not an inbound message", detail: "From: not a phone number, short code or sender id");
        }

        if (PhoneNumbers.ToE164(settings.SmsNumber) is { } own && own == number)
        {
            // Our own number writing to itself: an echo that would answer itself forever.
            return TypedResults.Text(EmptyTwiml, "text/xml", Encoding.UTF8);
        }

        var text = PlainText.Body(form["Body"].FirstOrDefault());
        // STOP, START, HELP: Twilio answers them and blocks or unblocks the number; they ask nothing of an agent. WhatsApp has no keywords at Twilio.
        if (channel == "sms" && TextKeywords.Of(text) is var (word, kind))
        {
            await context.RequestServices.GetRequiredService<SmsOptOuts>().TakeInAsync(sid, number, word, kind, CancellationToken.None);
            return TypedResults.Text(EmptyTwiml, "text/xml", Encoding.UTF8);
        }

        var media = MediaOf(form);
        var body = WithMedia(text, media);
        var fallback = channel == "whatsapp" ? $"WhatsApp from {number}" : $"SMS from {number}";
        var profileName = PlainText.Line(form["ProfileName"].FirstOrDefault());
        var message = new InboundMessage(channel, sid, number, string.IsNullOrEmpty(profileName) ? null : ColumnText.Fit(profileName, 200),
            SubjectLine.FromBody(text, fallback), body.Length > 0 ? body : "(empty message)")
        {
            FromIsPhone = true,
            ContinuesLatest = true,
        };
        // Not cancelled by Twilio hanging up: the text is signed and ours to keep, and a retry would find it stored.
        var stored = await context.RequestServices.GetRequiredService<IngestMessage>().HandleAsync(message, CancellationToken.None);
        if (!stored.Duplicate && stored.Message is { } inbound && media.Count > 0)
        {
            // Once the words are stored: a photo that is slow or gone never costs the message.
            await context.RequestServices.GetRequiredService<TwilioMedia>().AttachAsync(stored.Item, inbound, [.. media.Select(m => m.Url)], CancellationToken.None);
        }

        return TypedResults.Text(EmptyTwiml, "text/xml", Encoding.UTF8);
    }

    /// <summary>
    /// Twilio's form, or what is wrong with the request itself: said before the tenant is looked at, alike for every
    /// tenant. Twilio's webhooks are a few hundred bytes; nothing larger is read.
    /// </summary>
    internal static async Task<(IFormCollection? Form, ProblemHttpResult? Problem)> ReadFormAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Content-Type: send application/x-www-form-urlencoded, as Twilio does"));
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBodyBytes;
        }

        try
        {
            return (await context.Request.ReadFormAsync(cancellationToken), null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body that passed the limit as it was read.
            return (null, TooLarge());
        }
        catch (Exception e) when (RequestForms.IsMalformed(e, context))
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed form", detail: $"form: {e.Message}"));
        }
    }

    /// <summary>
    /// Whether X-Twilio-Signature signs <paramref name="form"/> with <paramref name="token"/> at the URL Twilio called
    /// (<see cref="SignedUrl"/>: the request's path and query under <paramref name="publicBaseUrl"/>, when set).
    /// </summary>
    internal static bool IsSigned(HttpContext context, IFormCollection form, string? publicBaseUrl, string token)
    {
        var parameters = form.SelectMany(f => f.Value.Select(v => KeyValuePair.Create(f.Key, v ?? ""))).ToList();
        var url = SignedUrl(context.Request, publicBaseUrl);
        return TwilioSignature.IsValid(url, parameters, token, context.Request.Headers[TwilioSignature.HeaderName]);
    }

    /// <summary>
    /// The URL Twilio signed: <c>Channels:PublicBaseUrl</c> (e.g. https://desk.example.com) followed by
    /// the path and query as received, when set; otherwise the URL of the request as this host saw it.
    /// </summary>
    internal static string SignedUrl(HttpRequest request, string? publicBaseUrl) =>
        string.IsNullOrWhiteSpace(publicBaseUrl)
            ? request.GetEncodedUrl()
            : publicBaseUrl.TrimEnd('/') + request.Path.ToUriComponent() + request.QueryString.ToUriComponent();

    /// <summary>The media Twilio holds for the message (MediaUrlN, MediaContentTypeN), at most <see cref="MaxMedia"/>, web links only.</summary>
    private static List<(Uri Url, string? Type)> MediaOf(IFormCollection form)
    {
        var count = int.TryParse(form["NumMedia"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Math.Min(n, MaxMedia) : 0;
        var media = new List<(Uri, string?)>();
        for (var i = 0; i < count; i++)
        {
            var url = form[$"MediaUrl{i}"].FirstOrDefault();
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && url.Length <= 2000)
            {
                var type = form[$"MediaContentType{i}"].FirstOrDefault();
                media.Add((uri, string.IsNullOrWhiteSpace(type) || type.Length > 100 || type.Any(char.IsControl) ? null : type.Trim()));
            }
        }

        return media;
    }

    /// <summary>The text, then the media listed as links: they stay reachable there whether or not <see cref="TwilioMedia"/> fetched them.</summary>
    private static string WithMedia(string text, List<(Uri Url, string? Type)> media)
    {
        if (media.Count == 0)
        {
            return text;
        }

        var links = media.Select(m => m.Type is null ? $"- {m.Url.AbsoluteUri}" : $"- {m.Url.AbsoluteUri} ({m.Type})");
        return (text.Length > 0 ? text + "\n\n" : "") + "Media:\n" + string.Join('\n', links);
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: $"body: at most {MaxBodyBytes} bytes");

    /// <summary>An unknown tenant, a tenant without an SMS token, a missing or wrong signature: one answer for all.</summary>
    internal static ProblemHttpResult Refused() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "X-Twilio-Signature: not a valid signature for this URL");
}
