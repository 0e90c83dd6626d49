using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;

namespace ProDesk.Web.Identity;

/// <summary>
/// OAuth access tokens, checked by OpenIddict's validation; a client-credentials token (an integration's: no user
/// behind it, so nothing to re-read per request) is then taken as checked for up to a minute. An integration sends
/// its one token with every message, and checking its signature and claims each time was an eighth of the app's
/// CPU per ingested message. The token is a self-contained JWT; a repeat within its lifetime passes the same checks
/// unless its entry was revoked (rotating the client's secret revokes them, <see cref="CurrentUserAccessTokens"/> asks),
/// so the minute bounds how long a revoked token, or a signing key taken out of service, still counts on a node that
/// did not do the rotation (<see cref="CheckedTokens.Forget"/> on the one that did). Tokens of users are never kept (their stamp is compared on every request,
/// <see cref="CurrentUserAccessTokens"/>).
/// </summary>
public sealed class ClientAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ClientAccessTokenHandler.CheckedTokens checkedTokens,
    TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "OAuthAccessToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken.From(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        // Checked for this host: without a configured issuer, the issuer a token must name is the request's own, and a
        // token checked under another Host header (probe round 13) must not count as checked here.
        var checkedAs = $"{Request.Scheme}://{Request.Host.Value}/ {token}";
        var now = clock.GetUtcNow();
        if (checkedTokens.Find(checkedAs, now) is { } known)
        {
            // Each request its own copy: claims transformations and handlers may add to the identity they are given.
            return AuthenticateResult.Success(new AuthenticationTicket(known.Clone(), OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme));
        }

        var result = await Context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (result.Succeeded && result.Principal is { } principal && IsClients(principal)
            && (result.Properties?.ExpiresUtc ?? principal.GetExpirationDate()) is { } expires)
        {
            checkedTokens.Keep(checkedAs, principal.Clone(), expires < now + CheckedTokens.Lifetime ? expires : now + CheckedTokens.Lifetime, now);
        }

        return result;
    }

    // A client-credentials token (ConnectEndpoints) carries the integration role and no stamp of a user.
    private static bool IsClients(ClaimsPrincipal principal) =>
        principal.GetClaim(StampHash.ClaimType) is null && principal.HasClaim(OpenIddictConstants.Claims.Role, IdentityExtensions.IntegrationRole);

    // OpenIddict's own challenge and forbid: they explain why a token was refused (error="invalid_token", ...).
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Context.ChallengeAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, properties);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Context.ForbidAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, properties);

    /// <summary>Checked client tokens and until when each counts as checked; bounded, so a flood of distinct tokens cannot grow it.</summary>
    public sealed class CheckedTokens
    {
        public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

        private const int MaxTokens = 4096;

        private readonly ConcurrentDictionary<string, (ClaimsPrincipal Principal, DateTimeOffset Until)> tokens = new(StringComparer.Ordinal);

        public ClaimsPrincipal? Find(string token, DateTimeOffset now)
        {
            if (!tokens.TryGetValue(token, out var entry))
            {
                return null;
            }

            if (entry.Until > now)
            {
                return entry.Principal;
            }

            tokens.TryRemove(new KeyValuePair<string, (ClaimsPrincipal, DateTimeOffset)>(token, entry));
            return null;
        }

        /// <summary>Counts no token of <paramref name="clientId"/> as checked any more (its secret was rotated): this node re-validates at once.</summary>
        public void Forget(string clientId)
        {
            foreach (var entry in tokens.Where(t => string.Equals(t.Value.Principal.GetClaim(OpenIddictConstants.Claims.Subject), clientId, StringComparison.Ordinal)))
            {
                tokens.TryRemove(entry);
            }
        }

        public void Keep(string token, ClaimsPrincipal principal, DateTimeOffset until, DateTimeOffset now)
        {
            if (until <= now)
            {
                return;
            }

            if (tokens.Count >= MaxTokens)
            {
                foreach (var old in tokens.Where(t => t.Value.Until <= now))
                {
                    tokens.TryRemove(old);
                }

                if (tokens.Count >= MaxTokens)
                {
                    // Many live clients at once: start over rather than track which was used last.
                    tokens.Clear();
                }
            }

            tokens[token] = (principal, until);
        }
    }
}
