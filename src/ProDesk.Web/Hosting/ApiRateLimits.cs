using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using ProDesk.Web.Channels;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Hosting;

/// <summary>Settings of <see cref="ApiRateLimits"/> (section <c>Api:RateLimit</c>).</summary>
public sealed class ApiRateLimitOptions
{
    public const string Section = "Api:RateLimit";

    /// <summary>Requests a caller makes per minute, sustained (0: no limit).</summary>
    public int PermitsPerMinute { get; set; } = 600;

    /// <summary>Requests a caller makes at once, from rest, before the sustained rate applies.</summary>
    public int Burst { get; set; } = 200;
}

/// <summary>
/// Every /api/v1 request counts against its caller's allowance: a token bucket per user (<c>sub</c>: staff, client
/// users, whatever the credential: cookie, personal access token or OAuth) or integration client (its client id),
/// else per client address for a request with no valid credential. One client's sloppy retry loop or leaked secret
/// had the shared desk to itself (400 year-long SLA reports in under 5 s, probe round 20), degrading every other
/// client's consoles and clocks. Over the allowance: 429 problem details with Retry-After, as the sign-in limit answers.
/// <para>
/// ASP.NET Core's rate-limiting middleware runs before authentication here (it must see /connect/token first,
/// <see cref="IdentityExtensions.UseIdentityAndAccess"/>), so it cannot tell callers apart: this limiter is its own
/// middleware, placed after authentication and before tenant resolution, so a caller scanning other tenants' routes
/// (404s) counts too. In memory, per node, as the chat's limits: N nodes allow N times it, which still bounds a flood.
/// The defaults, 600 a minute after a burst of 200, are far above a console (a person's item page reads the item
/// on each change) and about what Zendesk's plans give a whole account; `Api__RateLimit__PermitsPerMinute=0` turns it off.
/// </para>
/// </summary>
public sealed class ApiRateLimits : IDisposable
{
    public const string PathPrefix = "/api/v1";

    private readonly PartitionedRateLimiter<string>? limiter;

    public ApiRateLimits(IOptions<ApiRateLimitOptions> options)
    {
        var o = options.Value;
        if (o.PermitsPerMinute <= 0)
        {
            return;
        }

        // Refilled every second by a sixtieth of the minute's permits (below 60 a minute, one every 60/n seconds), so a
        // caller that spent its burst is back at the sustained rate at once instead of waiting out a whole minute.
        var (period, tokens) = o.PermitsPerMinute >= 60
            ? (TimeSpan.FromSeconds(1), o.PermitsPerMinute / 60)
            : (TimeSpan.FromMinutes(1) / o.PermitsPerMinute, 1);
        limiter = PartitionedRateLimiter.Create<string, string>(caller => RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, o.Burst),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Whose allowance a request takes: its user or integration client, else its address.</summary>
    public static string CallerOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.User.FindFirstValue(ProDeskClaims.Subject) is { Length: > 0 } subject
            ? $"sub:{subject}"
            : $"ip:{ClientAddress.Key(context.Connection.RemoteIpAddress)}";

    /// <summary>Takes one request from the caller's bucket; false with when to come back when it is empty.</summary>
    public bool TryAcquire(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (limiter is null)
        {
            return true;
        }

        using var lease = limiter.AttemptAcquire(CallerOf(context));
        if (lease.IsAcquired)
        {
            return true;
        }

        // At least a second: "try again in 0 seconds" invites a tight loop.
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.FromSeconds(1) ? after : TimeSpan.FromSeconds(1);
        return false;
    }

    public void Dispose() => limiter?.Dispose();
}

public static class ApiRateLimitsExtensions
{
    public static void AddApiRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ApiRateLimitOptions>(builder.Configuration.GetSection(ApiRateLimitOptions.Section));
        builder.Services.AddSingleton<ApiRateLimits>();
    }

    /// <summary>After authentication (the caller is known), before tenant resolution (its 404s count).</summary>
    public static void UseApiRateLimits(this WebApplication app) => app.UseWhen(
        context => context.Request.Path.StartsWithSegments(ApiRateLimits.PathPrefix, StringComparison.OrdinalIgnoreCase),
        branch => branch.Use(async (context, next) =>
        {
            if (context.RequestServices.GetRequiredService<ApiRateLimits>().TryAcquire(context, out var retryAfter))
            {
                await next(context);
                return;
            }

            var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                detail: $"This caller's requests are over its allowance of the API; try again in {seconds} s.").ExecuteAsync(context);
        }));
}
