using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ProDesk.Web.Hosting;

/// <summary>
/// An error of an API route is an RFC 9457 problem body whatever the request's Accept header says. ASP.NET Core's
/// writer declines a caller that accepts no JSON (say `Accept: text/csv`, which the SLA report offers), and the
/// status-code page then answered a bare 401 or 404 as padded plain text (probe round 11). Registered after that
/// writer, this one writes the same body for /api routes: status, title, and the instance and trace id that the
/// options' customisation adds.
/// </summary>
public sealed class ApiProblemWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), options: null, contentType: "application/problem+json"));
    }
}
