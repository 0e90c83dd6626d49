using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ProDesk.Web.Channels.WebForm;

/// <summary>
/// Two limits at once on the public form: per client IP (a script hammering one or many tenants'
/// forms) and per tenant (a botnet flooding one client's queue from many addresses). The rate
/// limiting middleware takes one partition per policy, so the two are chained here and applied as
/// an endpoint filter; an over-limit call gets 429 as problem details with Retry-After.
/// </summary>
/// <remarks>
/// Limits are per node, in memory: with N nodes a client gets up to N times the limit, which is
/// acceptable for abuse control. Behind a reverse proxy, turn on forwarded headers
/// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>) so the client IP is the caller's, not the proxy's.
/// </remarks>
public sealed class WebFormRateLimit : IEndpointFilter, IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public WebFormRateLimit(IOptions<WebFormOptions> options)
    {
        var o = options.Value;
        var perIp = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            ClientAddress.Key(context.Connection.RemoteIpAddress),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = o.PerIpLimit, Window = o.LimitWindow, QueueLimit = 0 }));
        var perTenant = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            (context.GetRouteValue("tenant") as string ?? "").ToLowerInvariant(),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = o.PerTenantLimit, Window = o.LimitWindow, QueueLimit = 0 }));
        _limiter = PartitionedRateLimiter.CreateChained(perIp, perTenant);
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        using var lease = _limiter.AttemptAcquire(context.HttpContext);
        if (lease.IsAcquired)
        {
            return await next(context);
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
        context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        // A person who posted the form reads a page, as for every other answer of the form; a script gets problem details.
        return WebFormApi.WantsHtml(context.HttpContext.Request)
            ? WebFormPages.Page(StatusCodes.Status429TooManyRequests, "Too many submissions", $"Please try again in {retryAfter} seconds.", [])
            : TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many submissions", detail: $"Try again in {retryAfter} seconds.");
    }

    public void Dispose() => _limiter.Dispose();
}
