using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Sms;

/// <summary>
/// Twilio's status callbacks for the texts the desk sent: each reply by SMS or WhatsApp names
/// <c>{public base URL}/channels/sms/{tenant}/twilio/status?message={id}</c> as its StatusCallback, and Twilio posts
/// MessageStatus (queued, sent, delivered, read, undelivered, failed) and ErrorCode there as the text moves on. The
/// callbacks are signed with the auth token of the account that sent the text (<c>Sms:AuthToken</c>) over that URL.
/// An undelivered or failed text is shown as not delivered, as a bounced mail is, and takes its reply back.
/// </summary>
public static class TwilioStatusApi
{
    public static void MapTwilioStatus(this IEndpointRouteBuilder app)
    {
        app.MapPost("/channels/sms/{tenant}/twilio/status", StatusAsync)
            .WithMetadata(new NoTenantAttribute(), new NoUserAuthenticationAttribute()).DisableAntiforgery().AllowAnonymous()
            .WithTags("Channels").WithName("TwilioMessageStatus")
            .WithSummary("Twilio's status callback for a text the desk sent (form: MessageStatus, ErrorCode), signed in X-Twilio-Signature with the sending account's auth token over the callback URL given with the text. Repeated and late callbacks never move a text back (a delivered text stays delivered); undelivered or failed shows the reply as not delivered.");
    }

    /// <summary>
    /// Where Twilio reaches the desk, without a trailing slash: <c>Channels:PublicBaseUrl</c> (the URL Twilio's webhooks
    /// are signed over), else <c>ProDesk:PublicBaseUrl</c>; null when neither is set, since Twilio cannot call localhost.
    /// </summary>
    public static string? PublicOrigin(IConfiguration configuration) =>
        new[] { configuration[TwilioInboundApi.PublicBaseUrlSetting], configuration[Csat.CsatRequests.PublicBaseUrlKey] }
            .FirstOrDefault(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))?.TrimEnd('/');

    /// <summary>The callback URL of outbound message <paramref name="messageId"/> of tenant <paramref name="slug"/> under <paramref name="origin"/>.</summary>
    public static Uri CallbackUrl(string origin, string slug, Guid messageId) =>
        new($"{origin}/channels/sms/{Uri.EscapeDataString(slug)}/twilio/status?message={messageId:N}");

    private static async Task<Results<NoContent, ProblemHttpResult>> StatusAsync(
        string tenant, HttpContext context, IConfiguration configuration, IOptions<SmsOptions> sms, CancellationToken cancellationToken)
    {
        var (read, problem) = await TwilioInboundApi.ReadFormAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var form = read!;
        var found = await ChannelTenant.FindAsync(context, tenant);
        using var scope = ChannelTenant.Enter(context, found);
        // Twilio signs a callback with the token of the account that sent the text (the provider's, not the tenant's), over
        // the URL the text named: the one PublicOrigin made.
        if (found is null || string.IsNullOrEmpty(sms.Value.AuthToken) || !TwilioInboundApi.IsSigned(context, form, PublicOrigin(configuration), sms.Value.AuthToken))
        {
            return TwilioInboundApi.Refused();
        }

        var status = form["MessageStatus"].FirstOrDefault()?.Trim().ToLowerInvariant();
        if (status is null || !TextDelivery.IsKnown(status))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a status callback",
                detail: $"MessageStatus: one of {string.Join(", ", TextDelivery.Statuses)}");
        }

        int? errorCode = null;
        if (form["ErrorCode"].FirstOrDefault() is { Length: > 0 } code)
        {
            if (code.Length > 6 || !int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a status callback", detail: "ErrorCode: Twilio's error number, digits only");
            }

            errorCode = number;
        }

        // The id is in the URL Twilio signed, so only a callback for a text we sent names it; the tenant's scope
        // (query filter, row-level security) finds only the tenant's own texts.
        var db = context.RequestServices.GetRequiredService<ProDeskDbContext>();
        if (!Guid.TryParse(context.Request.Query["message"], out var id)
            || !await db.OutboundMessages.AnyAsync(o => o.Id == id && (o.Channel == "sms" || o.Channel == "whatsapp"), cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "message: no text of this tenant's");
        }

        // One statement each, so callbacks arriving together cannot undo one another: a status is written only over one it outranks.
        var below = TextDelivery.Below(status);
        await db.OutboundMessages.Where(o => o.Id == id && (o.ProviderStatus == null || below.Contains(o.ProviderStatus)))
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.ProviderStatus, status).SetProperty(o => o.ProviderErrorCode, errorCode), CancellationToken.None);
        if (TextDelivery.IsFailure(status))
        {
            var error = TextDelivery.Error(status, errorCode);
            if (await db.OutboundMessages.Where(o => o.Id == id && o.State == OutboundState.Sent)
                .ExecuteUpdateAsync(set => set.SetProperty(o => o.State, OutboundState.Failed).SetProperty(o => o.LastError, error), CancellationToken.None) == 1)
            {
                var outbound = await db.OutboundMessages.AsNoTracking().FirstAsync(o => o.Id == id, CancellationToken.None);
                if (outbound is { WorkItemMessageId: not null, Automatic: false })
                {
                    await context.RequestServices.GetRequiredService<UndeliveredReplies>().ReopenAsync(outbound, CancellationToken.None);
                }
            }
        }

        return TypedResults.NoContent();
    }
}

/// <summary>
/// Twilio's message statuses in the order a text moves through them. A text sent in several parts, or callbacks that
/// arrive late or twice, must not move it back: a status is kept only over one it outranks, and a failure of any part
/// outranks every other (the customer did not get the whole reply).
/// </summary>
public static class TextDelivery
{
    private static readonly Dictionary<string, int> Rank = new(StringComparer.Ordinal)
    {
        ["accepted"] = 0, ["scheduled"] = 0, ["queued"] = 1, ["sending"] = 2, ["sent"] = 3, ["delivered"] = 4, ["read"] = 5,
        ["canceled"] = 6, ["undelivered"] = 6, ["failed"] = 6,
    };

    public static IEnumerable<string> Statuses => Rank.Keys;

    public static bool IsKnown(string status) => Rank.ContainsKey(status);

    /// <summary>The text did not reach the customer.</summary>
    public static bool IsFailure(string status) => status is "undelivered" or "failed" or "canceled";

    /// <summary>The statuses <paramref name="status"/> may be written over.</summary>
    public static List<string> Below(string status) => [.. Rank.Where(r => r.Value < Rank[status]).Select(r => r.Key)];

    /// <summary>Why the text did not arrive, as the console shows it beside the reply ("Not delivered: ...").</summary>
    public static string Error(string status, int? errorCode) =>
        (status == "undelivered" ? "the carrier did not deliver it" : status == "canceled" ? "it was canceled before it was sent" : "Twilio could not send it")
        + (errorCode is { } code ? $" (Twilio error {code})" : "");
}
