using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Validation.AspNetCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ProDesk.Web.Identity;

public static class IdentityExtensions
{
    /// <summary>The default scheme: picks cookie, personal access token or OpenIddict token per request.</summary>
    public const string Scheme = "ProDesk";

    /// <summary>The browser's sign-in cookie.</summary>
    public const string CookieName = "prodesk";

    public const string SignInRateLimit = "sign-in";

    /// <summary>The role an integration client (client_credentials) acts with.</summary>
    public const string IntegrationRole = "Integration";

    public const string ApiScope = "api";

    public const string IssuerSetting = "Identity:Issuer";

    /// <summary>The configured OAuth issuer (an absolute http(s) URL), or null to take each request's host.</summary>
    public static Uri? Issuer(IConfiguration configuration) => configuration[IssuerSetting] is { Length: > 0 } text
        ? Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new InvalidOperationException($"{IssuerSetting} must be an absolute http(s) URL such as https://desk.example.com/, not '{text}'.")
        : null;

    public static void AddIdentityAndAccess(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddHttpContextAccessor();
        services.AddScoped<AuditLog>();
        services.AddScoped<PersonalAccessTokens>();
        services.AddScoped<Credentials>();
        services.AddScoped<StaffDirectory>();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<ClientAccessTokenHandler.CheckedTokens>();
        services.AddSingleton<ServerSideSessions>();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<ServerSideSessions>((options, sessions) => options.SessionStore = sessions);

        services.AddDataProtection().SetApplicationName("ProDesk").PersistKeysToDbContext<ProDeskDbContext>();

        services.AddIdentityCore<AppUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Lockout.MaxFailedAccessAttempts = SignInThrottle.MaxFailures;
                options.Lockout.DefaultLockoutTimeSpan = SignInThrottle.LockoutWindow;
                options.Password.RequiredLength = 10;
                options.ClaimsIdentity.UserIdClaimType = ProDeskClaims.Subject;
                options.ClaimsIdentity.UserNameClaimType = ProDeskClaims.UserName;
                options.ClaimsIdentity.EmailClaimType = ProDeskClaims.Email;
                options.ClaimsIdentity.RoleClaimType = ProDeskClaims.Role;
            })
            .AddRoles<AppRole>()
            .AddEntityFrameworkStores<ProDeskDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            .AddTokenProvider<SingleUseAuthenticatorCodes>(TokenOptions.DefaultAuthenticatorProvider)
            .AddClaimsPrincipalFactory<ProDeskClaimsFactory>();

        // How often a session re-reads its user: a password change or a new tenant assignment reaches
        // every open session within this interval.
        var recheck = TimeSpan.FromSeconds(builder.Configuration.GetValue("Identity:SessionRecheckSeconds", 60));
        services.Configure<SecurityStampValidatorOptions>(o =>
        {
            o.ValidationInterval = recheck;
            o.OnRefreshingPrincipal = ServerSideSessions.KeepSessionClaims;
        });
        services.AddCurrentSessionPolicy();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = Scheme;
                options.DefaultChallengeScheme = Scheme;
            })
            .AddPolicyScheme(Scheme, "Cookie, personal access token or OAuth token", options =>
            {
                options.ForwardDefaultSelector = SelectScheme;
                options.ForwardSignIn = IdentityConstants.ApplicationScheme;
                options.ForwardSignOut = IdentityConstants.ApplicationScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, PersonalAccessTokenHandler>(PersonalAccessTokenHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, ClientAccessTokenHandler>(ClientAccessTokenHandler.SchemeName, null)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(options =>
            {
                options.LoginPath = "/login";
                options.LogoutPath = "/logout";
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.SlidingExpiration = true;
                options.ExpireTimeSpan = TimeSpan.FromHours(10);
                // A page the caller may not see does not exist, for it: 404, never 403.
                options.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                };
                // API and hub callers are programs: a 401 with a bearer challenge, not a redirect to a form.
                options.Events.OnRedirectToLogin = context =>
                {
                    if (IsMachineRoute(context.Request))
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        context.Response.Headers.WWWAuthenticate = "Bearer";
                        return Task.CompletedTask;
                    }

                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
            }));

        var requireHttps = builder.Configuration.GetValue("Identity:RequireHttps", builder.Environment.IsProduction());
        var issuer = Issuer(builder.Configuration);
        services.AddOpenIddict()
            .AddCore(options => options.UseEntityFrameworkCore().UseDbContext<ProDeskDbContext>().ReplaceDefaultEntities<Guid>())
            .AddServer(options =>
            {
                options.SetTokenEndpointUris("/connect/token")
                    .SetAuthorizationEndpointUris("/connect/authorize");
                // Without a fixed issuer OpenIddict takes each request's host: a token then works only on the host it
                // was issued on, not on a tenant's own host or behind a proxy that renames it.
                if (issuer is not null)
                {
                    options.SetIssuer(issuer);
                }

                options.AllowClientCredentialsFlow()
                    .AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow();
                // S256 only: a "plain" challenge is the verifier itself, no protection against a stolen code (OAuth 2.1).
                options.Configure(server => server.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
                // No form_post: OpenIddict's self-submitting page runs an inline script our Content-Security-Policy refuses,
                // so it was advertised and never worked. Clients get the code in the query (or fragment).
                options.Configure(server => server.ResponseModes.Remove(ResponseModes.FormPost));
                options.RegisterScopes(ApiScope, Scopes.OfflineAccess, Scopes.OpenId, Scopes.Email, Scopes.Profile, Scopes.Roles);
                options.SetAccessTokenLifetime(TimeSpan.FromHours(1))
                    .SetRefreshTokenLifetime(TimeSpan.FromDays(14));
                // Access tokens are signed JWTs (checked by this same app); codes and refresh tokens stay encrypted.
                options.DisableAccessTokenEncryption();
                var aspNet = options.UseAspNetCore()
                    .EnableTokenEndpointPassthrough()
                    .EnableAuthorizationEndpointPassthrough();
                if (!requireHttps)
                {
                    aspNet.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(options =>
            {
                options.UseLocalServer();
                options.UseAspNetCore();
                options.AddEventHandler(CurrentUserAccessTokens.Descriptor);
            });
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ServerKeys>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, NotFoundWhenForbidden>();

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Every limit of the middleware (sign-in, chat connections) answers as the rest of the API does: problem
            // details, and when to come back where the limiter knows it.
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: "Too many requests from this address; try again later.").ExecuteAsync(rejected.HttpContext);
            };
            // Per client IP: enough for a person and a script, not for a password sprayer.
            options.AddPolicy(SignInRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                Channels.ClientAddress.Key(context.Connection.RemoteIpAddress),
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = builder.Configuration.GetValue("Identity:SignInRequestsPerMinute", 60),
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
    }

    /// <summary>
    /// Loads (or creates) the OpenIddict keys at start, after migrations: OpenIddict reads its options on
    /// every request, and a database outage later must not turn every request, health probes included,
    /// into an error.
    /// </summary>
    public static void LoadServerKeys(this WebApplication app)
    {
        try
        {
            _ = app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        }
        catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            throw new Hosting.StartupException($"cannot load the token signing keys from the database: {e.GetBaseException().Message}", e);
        }
    }

    public static void UseIdentityAndAccess(this WebApplication app)
    {
        // Limits first: OpenIddict answers /connect/token inside the authentication middleware, so a
        // limiter placed after it would never see a client-secret guesser.
        app.UseRateLimiter();
        app.Use(RefuseMalformedConnectFormsAsync);
        app.UseFreshSessionAtSignIn();
        app.UseWhen(context => context.GetEndpoint()?.Metadata.GetMetadata<NoUserAuthenticationAttribute>() is null, branch => branch.UseAuthentication());
        // WebApplication puts authentication at the head of the pipeline, before the limits above, unless the app itself
        // says it has it (UseAuthentication writes this key, on the branch here); the rate-limit tests fail without it.
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
    }

    /// <summary>
    /// OpenIddict reads /connect/* forms itself and lets the form reader's exceptions (a NUL in a value,
    /// a broken body) escape as 500s; read the form first and answer those as RFC 6749 invalid_request.
    /// </summary>
    private static async Task RefuseMalformedConnectFormsAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase) && context.Request.HasFormContentType)
        {
            try
            {
                await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception e) when (RequestForms.IsMalformed(e, context) || RequestForms.IsTooLarge(e))
            {
                context.Response.StatusCode = RequestForms.IsTooLarge(e) ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
                {
                    ["error"] = "invalid_request",
                    ["error_description"] = "The request's form could not be read: " + e.Message,
                });
                return;
            }
        }

        await next(context);
    }

    private static bool IsMachineRoute(HttpRequest request) =>
        request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        || request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
        || request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Bearer tokens starting with pdk_ are personal access tokens; other bearer tokens are OpenIddict
    /// access tokens; without one, the browser's cookie.
    /// </summary>
    private static string SelectScheme(HttpContext context) =>
        BearerToken.From(context.Request) switch
        {
            null => IdentityConstants.ApplicationScheme,
            var token when token.StartsWith(PersonalAccessTokens.Prefix, StringComparison.Ordinal) => PersonalAccessTokenHandler.SchemeName,
            _ => ClientAccessTokenHandler.SchemeName,
        };
}
