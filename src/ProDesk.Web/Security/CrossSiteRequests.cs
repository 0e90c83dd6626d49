using ProDesk.Web.Identity;

namespace ProDesk.Web.Security;

/// <summary>
/// The API and the agent hub take the browser's sign-in cookie as well as bearer tokens, so that the
/// console can call them. A page on another site could then make the browser call them too: a plain HTML
/// form can post a multipart upload, an empty POST claims the next item, and a WebSocket opened from
/// any origin carries the cookie (SameSite=Lax is the only other wall, and it does not cover a sibling
/// subdomain). A request that carries the cookie and no bearer token must therefore come from this site
/// (by <c>Sec-Fetch-Site</c> where the browser sends it, else by <c>Origin</c>) when it changes something
/// on the API, and whatever its method on the agent hub: a WebSocket upgrade is a GET, and this runs before
/// anything has recognised it as one. Requests without either header (scripts, curl) are not from a browser
/// page and pass. Razor Pages forms have antiforgery tokens of their own; the chat hub is public and uses no cookie.
/// </summary>
public static class CrossSiteRequests
{
    public static void UseCrossSiteRefusal(this WebApplication app) => app.Use(async (context, next) =>
    {
        if (IsRefused(context.Request))
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-site request refused",
                detail: "Origin: a request signed in by this site's cookie must come from a page of this site").ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    private static bool IsRefused(HttpRequest request)
    {
        var guarded = request.Path.StartsWithSegments("/hubs/agent", StringComparison.OrdinalIgnoreCase)
            || (request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)));
        if (!guarded || !request.Cookies.ContainsKey(IdentityExtensions.CookieName) || BearerToken.From(request) is not null)
        {
            return false;
        }

        if (request.Headers["Sec-Fetch-Site"] is [{ } site])
        {
            return site is not ("same-origin" or "none");
        }

        return request.Headers.Origin is [{ } origin] && !IsThisSite(origin, request);
    }

    /// <summary>
    /// The Origin names the host the request came to: as Kestrel saw it, or as the proxy in front received it
    /// (X-Forwarded-Host; a page elsewhere cannot add that header to a form post or a WebSocket). Default ports are left out of both.
    /// </summary>
    private static bool IsThisSite(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.IsDefaultPort ? uri.Host : uri.Authority;
        return new[] { request.Host.Value, request.Headers["X-Forwarded-Host"].FirstOrDefault() }
            .Where(h => !string.IsNullOrEmpty(h))
            .Select(h => h!.EndsWith(":80", StringComparison.Ordinal) || h.EndsWith(":443", StringComparison.Ordinal) ? h[..h.LastIndexOf(':')] : h)
            .Any(h => string.Equals(h, host, StringComparison.OrdinalIgnoreCase));
    }
}
