using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer pdk_...</c> (or <c>?access_token=pdk_...</c> on hubs) as the token's user.
/// The token and its user are read on every request, so a revocation or a lockout takes effect at once on
/// every node; the claims built from the user (roles, served tenants: several queries) are cached under the
/// user's security and concurrency stamps, which every role, tenant-assignment and profile change renews.
/// </summary>
public sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PersonalAccessTokens tokens,
    IUserClaimsPrincipalFactory<AppUser> principals,
    IMemoryCache cache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PersonalAccessToken";

    private static readonly TimeSpan ClaimsLifetime = TimeSpan.FromMinutes(10);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken.From(Request) is not { } secret || !secret.StartsWith(PersonalAccessTokens.Prefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var found = await tokens.FindUserAsync(secret, Context.RequestAborted);
        // Not refused while the user's sign-in is locked out: a lockout stops password guessing at the form, and anyone
        // who knows an address can cause one; the token holder proves a secret of its own (revocation ends a token).
        if (found is not { User: var user })
        {
            return AuthenticateResult.Fail("The token is unknown or revoked.");
        }

        var key = $"pat-claims:{user.Id}:{user.SecurityStamp}:{user.ConcurrencyStamp}";
        var claims = await cache.GetOrCreateAsync(key, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = ClaimsLifetime;
            var principal = await principals.CreateAsync(user);
            return principal.Claims.Append(new Claim("amr", "pat")).ToArray();
        });
        // The token's own id beside its user's claims: a hub connection opened with it ends when it is revoked (HubSessions).
        var identity = new ClaimsIdentity(claims, SchemeName, ProDeskClaims.UserName, ProDeskClaims.Role);
        identity.AddClaim(new Claim(ProDeskClaims.PersonalAccessToken, found.TokenId.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = BearerToken.From(Request) is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        return Task.CompletedTask;
    }
}

/// <summary>Where a bearer token travels: the Authorization header, or the access_token query for WebSocket hub connections.</summary>
public static class BearerToken
{
    public static string? From(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase) && request.Query["access_token"] is [{ Length: > 0 } token]
            ? token
            : null;
    }
}
