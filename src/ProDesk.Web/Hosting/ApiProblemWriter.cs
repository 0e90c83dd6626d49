using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ProDesk.Web.Hosting;

/// <summary>
/// An error of an API route is an RFC 9457 problem body whatever the request's Accept header says. ASP.NET Core's
/// writer declines a caller that accepts no JSON (say `Accept: text/csv`, which the SLA report offers), and the
/// status-code page then answered a bare 401 or 404 as padded plain text (probe round 11). Registered after that
/// writer, this one writes the same body for /api routes: type, status, title, and the instance and trace id that the
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
        // The framework's writer names the RFC 9110 section of the status; a body must not change shape with Accept (probe round 12).
        problem.Type ??= Sections.TryGetValue(problem.Status.Value, out var section) ? $"https://tools.ietf.org/html/rfc9110#section-{section}" : null;
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), options: null, contentType: "application/problem+json"));
    }

    // As ASP.NET Core's ProblemDetailsDefaults has them.
    private static readonly Dictionary<int, string> Sections = new()
    {
        [400] = "15.5.1", [401] = "15.5.2", [403] = "15.5.4", [404] = "15.5.5", [405] = "15.5.6", [406] = "15.5.7", [408] = "15.5.9",
        [409] = "15.5.10", [412] = "15.5.13", [415] = "15.5.16", [422] = "15.5.21", [426] = "15.5.22",
        [500] = "15.6.1", [502] = "15.6.3", [503] = "15.6.4", [504] = "15.6.5",
    };
}
