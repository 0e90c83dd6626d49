using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ProDesk.Web.Channels.WebForm;

/// <summary>
/// Two limits on the public form: per client IP (a script hammering one or many tenants' forms), as an
/// endpoint filter on every request; and per tenant (a botnet flooding one client's queue from many
/// addresses), counted by the form only for a submission it is about to store (<see cref="TryTenant"/>):
/// wrong keys, invalid forms and honeypot hits store nothing, and must not use up a client's form for
/// everyone else. An over-limit call gets 429 with Retry-After (a page for a browser, problem details otherwise).
/// </summary>
/// <remarks>
/// Limits are per node, in memory: with N nodes a client gets up to N times the limit, which is
/// acceptable for abuse control. Behind a reverse proxy, turn on forwarded headers
/// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>) so the client IP is the caller's, not the proxy's.
/// </remarks>
public sealed class WebFormRateLimit : IEndpointFilter, IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _perIp;

    private readonly PartitionedRateLimiter<HttpContext> _perTenant;

    public WebFormRateLimit(IOptions<WebFormOptions> options)
    {
        var o = options.Value;
        _perIp = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            ClientAddress.Key(context.Connection.RemoteIpAddress),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = o.PerIpLimit, Window = o.LimitWindow, QueueLimit = 0 }));
        _perTenant = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            (context.GetRouteValue("tenant") as string ?? "").ToLowerInvariant(),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = o.PerTenantLimit, Window = o.LimitWindow, QueueLimit = 0 }));
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        using var lease = _perIp.AttemptAcquire(context.HttpContext);
        if (lease.IsAcquired)
        {
            return await next(context);
        }

        var retryAfter = RetryAfter(context.HttpContext, lease);
        // A person who posted the form reads a page, as for every other answer of the form; a script gets problem details.
        return WebFormApi.WantsHtml(context.HttpContext.Request) ? TooManyPage(retryAfter) : TooManyProblem(retryAfter);
    }

    /// <summary>
    /// Counts a submission about to be stored against its tenant's limit: null when it may go on, else the seconds
    /// to wait (Retry-After is set).
    /// </summary>
    public int? TryTenant(HttpContext context)
    {
        using var lease = _perTenant.AttemptAcquire(context);
        return lease.IsAcquired ? null : RetryAfter(context, lease);
    }

    public static ContentHttpResult TooManyPage(int retryAfter) =>
        WebFormPages.Page(StatusCodes.Status429TooManyRequests, "Too many submissions", $"Please try again in {retryAfter} seconds.", []);

    public static ProblemHttpResult TooManyProblem(int retryAfter) =>
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many submissions", detail: $"Try again in {retryAfter} seconds.");

    private static int RetryAfter(HttpContext context, RateLimitLease lease)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return retryAfter;
    }

    public void Dispose()
    {
        _perIp.Dispose();
        _perTenant.Dispose();
    }
}
