using ProDesk.Web.Identity;

namespace ProDesk.Web.Security;

/// <summary>
/// The API and the agent hub take the browser's sign-in cookie as well as bearer tokens, so that the
/// console can call them. A page on another site could then make the browser call them too: a plain HTML
/// form can post a multipart upload, an empty POST claims the next item, and a WebSocket opened from
/// any origin carries the cookie (SameSite=Lax is the only other wall, and it does not cover a sibling
/// subdomain). A request that carries the cookie and no bearer token, and that changes something or opens
/// a WebSocket, must therefore come from this site: by <c>Sec-Fetch-Site</c> where the browser sends it,
/// else by <c>Origin</c>. Requests without either (scripts, curl) are not from a browser page and pass.
/// Razor Pages forms have antiforgery tokens of their own; the chat hub is public and uses no cookie.
/// </summary>
public static class CrossSiteRequests
{
    private static readonly string[] CookiePaths = ["/api", "/hubs/agent"];

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
        var changes = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        if ((!changes && !request.HttpContext.WebSockets.IsWebSocketRequest)
            || !CookiePaths.Any(p => request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
            || !request.Cookies.ContainsKey(IdentityExtensions.CookieName)
            || BearerToken.From(request) is not null)
        {
            return false;
        }

        if (request.Headers["Sec-Fetch-Site"] is [{ } site])
        {
            return site is not ("same-origin" or "none");
        }

        return request.Headers.Origin is [{ } origin]
            && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }
}
