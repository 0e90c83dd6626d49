using System.Collections.Immutable;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ProDesk.Web.Identity;

/// <summary>
/// The OAuth 2.0 endpoints OpenIddict passes through to us: /connect/token decides who a token is
/// for (an integration client acting for its one tenant, or a user), /connect/authorize signs a
/// user in with the cookie and issues a code (first-party clients, no consent screen).
/// </summary>
public static class ConnectEndpoints
{
    /// <summary>The application property that ties an integration client to its tenant.</summary>
    public const string TenantProperty = "tenant";

    public static void MapConnectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/token", TokenAsync).RequireRateLimiting(IdentityExtensions.SignInRateLimit).ExcludeFromDescription().WithMetadata(new NoTenantAttribute());
        app.MapMethods("/connect/authorize", ["GET", "POST"], AuthorizeAsync).ExcludeFromDescription().WithMetadata(new NoTenantAttribute());
    }

    private static async Task<IResult> TokenAsync(
        HttpContext context,
        IOpenIddictApplicationManager applications,
        UserManager<AppUser> users,
        SignInManager<AppUser> signIn,
        ITenantStore tenants)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenIddict request.");

        if (request.IsClientCredentialsGrantType())
        {
            var application = await applications.FindByClientIdAsync(request.ClientId!) ?? throw new InvalidOperationException("Unknown client passed validation.");
            var properties = await applications.GetPropertiesAsync(application);
            if (!properties.TryGetValue(TenantProperty, out var tenantValue)
                || tenantValue.ValueKind != JsonValueKind.String
                || !Guid.TryParse(tenantValue.GetString(), out var tenantId)
                || await tenants.FindByIdAsync(tenantId) is not { Status: Domain.Tenancy.TenantStatus.Active } tenant)
            {
                return Refuse(Errors.InvalidClient, "This client acts for no active tenant.");
            }

            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, ProDeskClaims.Name, ProDeskClaims.Role);
            identity.SetClaim(Claims.Subject, request.ClientId)
                .SetClaim(Claims.Name, await applications.GetDisplayNameAsync(application) ?? request.ClientId)
                .SetClaim(ProDeskClaims.Tenant, tenant.Id.ToString())
                .SetClaims(Claims.Role, [IdentityExtensions.IntegrationRole]);
            // An integration exists to call the API: asking for no scope gets that one (RFC 6749 3.3 lets a server default it).
            identity.SetScopes(request.GetScopes().IsEmpty ? [IdentityExtensions.ApiScope] : request.GetScopes().Intersect([IdentityExtensions.ApiScope]));
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var user = result.Principal?.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject) : null;
            // A password change renews the security stamp: refresh tokens issued before it stop working. A sign-in lockout
            // does not: anyone who knows the address can cause one by guessing at the form.
            if (user is null || !await signIn.CanSignInAsync(user)
                || result.Principal!.GetClaim(StampClaim) != await users.GetSecurityStampAsync(user))
            {
                return Refuse(Errors.InvalidGrant, "The token is no longer valid.");
            }

            return Results.SignIn(await UserPrincipalAsync(signIn, users, user, result.Principal!.GetScopes()), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Refuse(Errors.UnsupportedGrantType, "This grant type is not supported.");
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context, UserManager<AppUser> users, SignInManager<AppUser> signIn, TimeProvider clock)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenIddict request.");
        var cookie = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = cookie.Succeeded ? await users.GetUserAsync(cookie.Principal!) : null;
        // OpenID Connect Core 3.1.2.1: prompt=login, or a session older than max_age, asks for the password again. The
        // session is not ended here: this is a GET any site can link to, and a link must not sign anyone out. The way
        // back carries the time from which a sign-in counts instead, so only one made after this answer gives a code;
        // the sign-in form starts a new session when the password is given (FreshSessionAtSignIn).
        var signedInAt = ServerSideSessions.SignedInAt(cookie.Principal);
        var now = clock.GetUtcNow();
        var loginAfter = LoginAfter(request);
        var askAgain = request.HasPromptValue(PromptValues.Login)
            || (request.MaxAge is { } maxAge && (signedInAt is null || now - signedInAt.Value > TimeSpan.FromSeconds(maxAge)));
        if (user is not null && (askAgain || (loginAfter is { } after && (signedInAt is null || signedInAt.Value <= after))))
        {
            user = null;
        }

        if (user is null)
        {
            // prompt=none: the client asked that no page be shown; it hears that a sign-in is needed instead (3.1.2.6).
            if (request.HasPromptValue(PromptValues.None))
            {
                return Refuse(Errors.LoginRequired, "The user is not signed in.");
            }

            // Sign in first, then come back here with the same request, prompt=login and max_age turned into the time a
            // sign-in must be newer than.
            var since = askAgain ? now : loginAfter;
            var parameters = (context.Request.HasFormContentType ? context.Request.Form.AsEnumerable() : context.Request.Query.AsEnumerable())
                .Where(p => p.Key is not (Parameters.Prompt or Parameters.MaxAge or LoginAfterParameter));
            if (since is { } from)
            {
                parameters = parameters.Append(new(LoginAfterParameter, from.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
            }

            var prompt = string.Join(' ', request.GetPromptValues().Remove(PromptValues.Login));
            var query = QueryString.Create(prompt.Length > 0 ? parameters.Append(new(Parameters.Prompt, prompt)) : parameters);
            return Results.Challenge(new AuthenticationProperties { RedirectUri = context.Request.PathBase + context.Request.Path + query }, [IdentityConstants.ApplicationScheme]);
        }

        return Results.SignIn(await UserPrincipalAsync(signIn, users, user, request.GetScopes()), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private const string StampClaim = "security_stamp";

    /// <summary>Ours, on the way back from the sign-in form: only a sign-in after this (Unix milliseconds) counts.</summary>
    private const string LoginAfterParameter = "prodesk_login_after";

    private static DateTimeOffset? LoginAfter(OpenIddictRequest request) => ServerSideSessions.FromUnixMilliseconds((string?)request[LoginAfterParameter]);

    /// <summary>The user's claims for tokens: subject, name, email, roles and tenants; the stamp stays server-side, its hash goes in access tokens.</summary>
    private static async Task<ClaimsPrincipal> UserPrincipalAsync(SignInManager<AppUser> signIn, UserManager<AppUser> users, AppUser user, ImmutableArray<string> scopes)
    {
        var principal = await signIn.CreateUserPrincipalAsync(user);
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, ProDeskClaims.Name, ProDeskClaims.Role);
        foreach (var claim in principal.Claims.Where(c => c.Type is ProDeskClaims.Subject or ProDeskClaims.Email or ProDeskClaims.Name or ProDeskClaims.UserName or ProDeskClaims.Role or ProDeskClaims.Tenant))
        {
            identity.AddClaim(new Claim(claim.Type, claim.Value));
        }

        var stamp = await users.GetSecurityStampAsync(user);
        identity.SetClaim(StampClaim, stamp);
        identity.SetClaim(StampHash.ClaimType, StampHash.Of(stamp));
        identity.SetScopes(scopes.Intersect([IdentityExtensions.ApiScope, Scopes.OfflineAccess, Scopes.OpenId, Scopes.Email, Scopes.Profile, Scopes.Roles]));
        identity.SetDestinations(claim => claim.Type switch
        {
            StampClaim => [],
            ProDeskClaims.Name or ProDeskClaims.Email when identity.HasScope(Scopes.Profile) || identity.HasScope(Scopes.Email) => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [Destinations.AccessToken],
        });
        return new ClaimsPrincipal(identity);
    }

    private static IResult Refuse(string error, string description) =>
        Results.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
