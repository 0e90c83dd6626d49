using System.Net;
using Microsoft.AspNetCore.WebUtilities;

namespace ProDesk.Web.Hosting;

/// <summary>
/// A bodiless error status answered for the one who asked: a person's browser on a page route (a customer's tampered
/// rating link, an agent's link to an item of a tenant they do not serve) gets a short HTML page, where it used to get
/// the JSON problem body a program gets (probe round 12); programs, and every machine route, still get RFC 9457.
/// </summary>
public static class StatusPages
{
    private static readonly string[] MachineRoutes =
        ["/api", "/hubs", "/metrics", "/channels", "/connect", "/webhooks", "/health", "/openapi", "/.well-known"];

    public static void UseStatusPages(this WebApplication app) => app.UseStatusCodePages(async context =>
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        if (WantsPage(http.Request))
        {
            var title = WebUtility.HtmlEncode(ReasonPhrases.GetReasonPhrase(status));
            var text = status == StatusCodes.Status404NotFound
                ? "There is nothing here, or nothing you may see. Check the link, or sign in with the account it was meant for."
                : "The request could not be answered.";
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(
                $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - ProDesk</title></head>"
                + $"<body><main><h1>{status} {title}</h1><p>{text}</p><p><a href=\"/\">ProDesk</a></p></main></body></html>");
            return;
        }

        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status } }))
        {
            // A caller accepting neither JSON nor HTML on a page route: the status in words, as the framework's default page.
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync($"Status Code: {status}; {ReasonPhrases.GetReasonPhrase(status)}");
        }
    });

    private static bool WantsPage(HttpRequest request) =>
        !MachineRoutes.Any(prefix => request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
        && request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
}
