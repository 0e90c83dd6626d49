using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ProDesk.Web.Identity;

/// <summary>
/// The sign-in pages (<c>/login</c>, <c>/login/2fa</c>) never see the browser's current session: its cookie is taken off
/// the request before authentication. The cookie handler renews the session it was handed instead of starting one
/// (<see cref="ServerSideSessions"/>), so a sign-in over a session cookie planted by someone else (session fixation:
/// a subdomain or a plain-HTTP hop can set it) would have kept the planter's key, now worth the victim's session.
/// Here every sign-in gets a new key; a sign-in posted over a session ends that session, as its browser is about to
/// be someone else's. The forms' antiforgery tokens are made and checked for nobody, the same on both sides.
/// </summary>
public static class FreshSessionAtSignIn
{
    private static readonly PathString[] SignInPages = ["/login", "/login/2fa"];

    public static IApplicationBuilder UseFreshSessionAtSignIn(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (SignInPages.Any(p => context.Request.Path.Equals(p, StringComparison.OrdinalIgnoreCase))
            && CookieHeaderValue.TryParseList(context.Request.Headers.Cookie.OfType<string>().ToList(), out var cookies))
        {
            var name = IdentityExtensions.CookieName;
            var session = cookies.Where(c => c.Name.Equals(name, StringComparison.Ordinal)).Select(c => c.Value.ToString()).FirstOrDefault();
            if (session is not null && HttpMethods.IsPost(context.Request.Method)
                && KeyOf(context, session) is { } key)
            {
                await context.RequestServices.GetRequiredService<ServerSideSessions>().RemoveAsync(key, context, context.RequestAborted);
            }

            // The session cookie and its chunks ("prodeskC1"...), whatever else the browser sent stays.
            var kept = cookies.Where(c => !c.Name.ToString().StartsWith(name, StringComparison.Ordinal)).Select(c => c.ToString()).ToArray();
            if (kept.Length != cookies.Count)
            {
                context.Request.Headers.Cookie = kept.Length == 0 ? default : string.Join("; ", kept);
            }
        }

        await next(context);
    });

    // The key inside the protected cookie; null when it is not one of ours.
    private static string? KeyOf(HttpContext context, string cookie)
    {
        var options = context.RequestServices.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.ApplicationScheme);
        return options.TicketDataFormat.Unprotect(cookie)?.Principal.FindFirst(SessionIdClaim)?.Value;
    }

    // The claim the cookie handler names a stored session by (CookieAuthenticationHandler.SessionIdClaim).
    private const string SessionIdClaim = "Microsoft.AspNetCore.Authentication.Cookies-SessionId";
}
