using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ProDesk.Web.Hosting;

/// <summary>
/// An address or header block too large for the desk is refused with an RFC 9457 body that says which and how large.
/// Kestrel refuses them itself with a bodiless 414 or 431 before any middleware runs, so a caller learned nothing of
/// what to shorten. Kestrel's own limits are raised well above ours, so a request between the two reaches this check
/// and gets the body; only one beyond Kestrel's (8 times ours) still gets Kestrel's bare status.
/// </summary>
public static class RequestSizeLimits
{
    /// <summary>The longest request target (path and query) read: Kestrel's default request line.</summary>
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>The largest header block read: Kestrel's default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    private const int KestrelFactor = 8;

    public static void RaiseKestrelLimits(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = MaxTargetBytes * KestrelFactor;
        limits.MaxRequestHeadersTotalSize = MaxHeaderBytes * KestrelFactor;
        // HTTP/2 caps each header field by this as well.
        limits.Http2.MaxRequestHeaderFieldSize = MaxHeaderBytes * KestrelFactor;
    }

    public static void UseRequestSizeLimits(this WebApplication app) => app.Use(async (context, next) =>
    {
        if (RefusalOf(context) is { } refusal)
        {
            context.Response.StatusCode = refusal.Status;
            var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
            var written = await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = refusal.Status,
                    Title = refusal.Title,
                    Detail = refusal.Detail,
                    Extensions = { ["errors"] = new Dictionary<string, string[]> { [refusal.Field] = [refusal.Detail] } },
                },
            });
            if (!written)
            {
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(refusal.Detail);
            }

            return;
        }

        await next(context);
    });

    private sealed record Refusal(int Status, string Title, string Field, string Detail);

    private static Refusal? RefusalOf(HttpContext context)
    {
        // The target as sent (still percent-encoded), or as decoded where the server keeps no raw one (the test host).
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var target = string.IsNullOrEmpty(raw) ? context.Request.Path.Value + context.Request.QueryString.Value : raw;
        if (target.Length > MaxTargetBytes)
        {
            var field = context.Request.QueryString.Value?.Length > MaxTargetBytes / 2 ? "query" : "path";
            return new(StatusCodes.Status414UriTooLong, "Address too long", field,
                $"The request's address is {target.Length} bytes long; at most {MaxTargetBytes} are read. Send long values in the request body.");
        }

        var total = 0;
        (string Name, int Bytes) largest = ("", 0);
        foreach (var header in context.Request.Headers)
        {
            var bytes = header.Key.Length + 4;
            foreach (var value in header.Value)
            {
                bytes += value?.Length ?? 0;
            }

            total += bytes;
            if (bytes > largest.Bytes)
            {
                largest = (header.Key, bytes);
            }
        }

        return total > MaxHeaderBytes
            ? new(StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large", largest.Name,
                $"The request's headers are {total} bytes long, {largest.Name} the largest at {largest.Bytes}; at most {MaxHeaderBytes} are read in all.")
            : null;
    }
}
