using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ProDesk.Web.Security;

/// <summary>
/// The browser-side walls of every response: a Content-Security-Policy with a fresh nonce per
/// request on HTML, and nosniff, a same-origin referrer and no framing by other sites. Headers are
/// written when the response starts, so an endpoint that sets its own (an attachment download, the
/// sandboxed mail frame) keeps them, and error pages get them too.
/// </summary>
public static class SecurityHeaders
{
    private static readonly object NonceKey = new();

    /// <summary>
    /// Vendor UIs that write inline styles (style attributes, injected style elements) we cannot give
    /// our nonce: Hangfire's dashboard and Scalar's API reference. They keep 'unsafe-inline' for
    /// styles only; their scripts need this request's nonce like ours (Scalar's inline module gets it
    /// from <see cref="WithCspNonceOnScripts"/>). Styles cannot run code; they show only the app's own
    /// data (job names, the OpenAPI document).
    /// </summary>
    private static readonly string[] InlineStylePaths = ["/api/docs", "/hangfire"];

    /// <summary>
    /// The sign-in forms: after the POST, /connect/authorize may redirect to an OAuth client's
    /// redirect URI on another origin, and browsers check form-action on every redirect of the
    /// submission. These pages leave form-action out; everything else about them stays strict.
    /// </summary>
    private static readonly string[] SignInPaths = ["/login"];

    /// <summary>This request's nonce (created on first use): 128 random bits, base64.</summary>
    public static string CspNonce(this HttpContext context)
    {
        if (context.Items.TryGetValue(NonceKey, out var existing) && existing is string nonce)
        {
            return nonce;
        }

        nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Items[NonceKey] = nonce;
        return nonce;
    }

    /// <summary>The policy of our own pages: scripts and styles from our origin, or inline with this request's nonce.</summary>
    public static string PagePolicy(string nonce, bool inlineStyles = false, bool formAction = true) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' {(inlineStyles ? "'unsafe-inline'" : $"'nonce-{nonce}'")}; " +
        // connect-src 'self' covers the same-origin ws:/wss: of /hubs/agent (CSP Level 3).
        $"img-src 'self' data: https:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
        $"{(formAction ? "form-action 'self'; " : "")}frame-ancestors 'none'";

    /// <summary>
    /// Adds this request's nonce to the script elements of an endpoint's HTML that we do not write
    /// ourselves (Scalar's page boots from an inline module), instead of allowing inline scripts.
    /// </summary>
    public static TBuilder WithCspNonceOnScripts<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            return result is ContentHttpResult { ResponseContent: { } html } content && IsHtml(content.ContentType)
                ? TypedResults.Content(
                    html.Replace("<script", $"<script nonce=\"{context.HttpContext.CspNonce()}\"", StringComparison.OrdinalIgnoreCase),
                    content.ContentType, statusCode: content.StatusCode)
                : result;
        });

    /// <summary>Adds the headers to every response; first in the pipeline, so error pages have them too.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(Apply, context);
        return next(context);
    });

    private static Task Apply(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        if (!headers.ContainsKey("X-Content-Type-Options"))
        {
            headers.XContentTypeOptions = "nosniff";
        }

        if (!headers.ContainsKey("Referrer-Policy"))
        {
            headers["Referrer-Policy"] = "same-origin";
        }

        // A tenant's items, reports and mail are nobody's to keep: no shared proxy or browser cache stores an API answer
        // unless its endpoint says otherwise. The API reference's assets may be cached.
        var path = context.Request.PathBase.Add(context.Request.Path);
        if (path.StartsWithSegments("/api") && !path.StartsWithSegments("/api/docs") && !headers.ContainsKey("Cache-Control"))
        {
            headers.CacheControl = "no-store";
        }

        // The chat widget loads the SignalR client from here into a client's site, which may demand CORP of every
        // resource it embeds (Cross-Origin-Embedder-Policy: require-corp), as the widget script itself says it.
        if (path.StartsWithSegments("/lib/signalr") && !headers.ContainsKey("Cross-Origin-Resource-Policy"))
        {
            headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        }

        if (!IsHtml(context.Response.ContentType))
        {
            return Task.CompletedTask;
        }

        // An endpoint that set its own policy (the sandboxed mail frame) also decided who may frame it.
        if (!headers.ContainsKey("Content-Security-Policy"))
        {
            // DENY, also over antiforgery's SAMEORIGIN: no page of ours is meant to be framed.
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = PagePolicy(
                context.CspNonce(), inlineStyles: StartsWithAny(path, InlineStylePaths), formAction: !StartsWithAny(path, SignInPaths));
        }

        return Task.CompletedTask;
    }

    private static bool IsHtml(string? contentType) =>
        contentType is not null && contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase);

    private static bool StartsWithAny(PathString path, string[] prefixes) =>
        prefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
}
