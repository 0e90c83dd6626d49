using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>The inbound MIME route: one raw RFC 5322 message per request, from a mail gateway (CONTRACT.md).</summary>
public static class EmailInboundApi
{
    public const string KeyHeader = "X-ProDesk-Key";

    public sealed record InboundMailAnswer(Guid Id, string Outcome, Guid? WorkItemId, string? Reason);

    public static void MapEmailInbound(this IEndpointRouteBuilder app)
    {
        app.MapPost("/channels/email/{tenant}/inbound", InboundAsync)
            .WithMetadata(new NoTenantAttribute(), new NoUserAuthenticationAttribute()).DisableAntiforgery().AllowAnonymous()
            .WithTags("Channels").WithName("InboundEmail")
            // No Accepts(): that metadata would let routing answer 415 itself, without naming the field at fault.
            .WithSummary("One raw mail (Content-Type: message/rfc822), authenticated by the tenant's inbound key in X-ProDesk-Key; the same Message-ID twice creates nothing new.");
    }

    private static async Task<Results<Created<InboundMailAnswer>, Ok<InboundMailAnswer>, Accepted<InboundMailAnswer>, ProblemHttpResult>> InboundAsync(
        string tenant, HttpContext context, IOptions<EmailOptions> options, CancellationToken cancellationToken)
    {
        var found = await ChannelTenant.FindAsync(context, tenant);
        using var scope = ChannelTenant.Enter(context, found);
        var settings = await ChannelTenant.SettingsAsync(context, found);
        if (found is null || settings is null || !InboundKeys.Matches(context.Request.Headers[KeyHeader], settings.InboundKeyHash))
        {
            return WrongKey(context);
        }

        if (!IsRfc822(context.Request.ContentType))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Send one raw mail",
                detail: "Content-Type: must be message/rfc822");
        }

        // Mail over the limit is still kept (quarantined, reprocessable); beyond twice the limit it is refused outright.
        var hardLimit = options.Value.MaxBytes * 2;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = hardLimit;
        }

        if (context.Request.ContentLength > hardLimit)
        {
            return TooLarge(hardLimit);
        }

        byte[] raw;
        try
        {
            raw = await ReadBodyAsync(context.Request, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(hardLimit);
        }
        catch (EndOfStreamException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Incomplete mail", detail: "body: shorter than its Content-Length");
        }

        if (raw.Length == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Empty mail", detail: "body: send the raw message");
        }

        // The mail is whole in hand: it is taken in even if the gateway hangs up meanwhile (a timeout of its own), as
        // stopping halfway would only make its retry do it all again. Every step is bounded by the database's timeouts.
        var result = await context.RequestServices.GetRequiredService<IngestEmail>().HandleAsync(IngestEmail.RouteSource, raw, settings, CancellationToken.None);
        var answer = new InboundMailAnswer(result.MailId, result.Outcome.ToString().ToLowerInvariant(), result.WorkItemId, result.Reason);
        return result.Outcome switch
        {
            IngestEmail.Outcome.Created => TypedResults.Created($"/api/v1/tenants/{found.Slug}/work-items/{result.WorkItemId}", answer),
            IngestEmail.Outcome.Threaded or IngestEmail.Outcome.Duplicate => TypedResults.Ok(answer),
            _ => TypedResults.Accepted((string?)null, answer),
        };
    }

    /// <summary>
    /// With a Content-Length (gateways send one), one array of that size: not a doubling buffer and then its
    /// copy, which for mail with attachments are large-object-heap arrays, each a share of a full GC.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length and > 0)
        {
            var raw = new byte[length];
            await request.Body.ReadExactlyAsync(raw, cancellationToken);
            return raw;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>An unknown tenant and a wrong key get one answer (the voice route's too), so neither tells a tenant exists.</summary>
    internal static ProblemHttpResult WrongKey(HttpContext context)
    {
        // RFC 9110 15.5.2: a 401 names how to authenticate; the scheme here is the key in its header.
        context.Response.Headers.WWWAuthenticate = $"ProDesk-Key header=\"{KeyHeader}\"";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unknown tenant or wrong inbound key",
            detail: $"{KeyHeader}: send the tenant's inbound key");
    }

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Mail too large", detail: $"body: at most {limit} bytes");

    private static bool IsRfc822(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals("message/rfc822", StringComparison.OrdinalIgnoreCase);
}
