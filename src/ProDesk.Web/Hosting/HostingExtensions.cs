using Microsoft.AspNetCore.Diagnostics;
using ProDesk.Web.Security;
using Scalar.AspNetCore;
using Serilog;

namespace ProDesk.Web.Hosting;

public static class HostingExtensions
{
    private static bool IsFrom(Serilog.Events.LogEvent e, string prefix) =>
        e.Properties.TryGetValue("SourceContext", out var source) && source.ToString().Trim('"').StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>
    /// The data directory refused a write (read-only, full, a folder replaced by a file): the sender may retry, and the
    /// ingestion paths store nothing half (probe round 8). Not a client's malformed request or broken connection, which are IOExceptions too.
    /// </summary>
    private static bool IsStorageUnavailable(Exception? exception) =>
        exception is UnauthorizedAccessException
        or (IOException and not BadHttpRequestException and not Microsoft.AspNetCore.Connections.ConnectionResetException and not EndOfStreamException);

    /// <summary>Logging, paths, problem details, pages, OpenAPI. A command-line verb logs to stderr, keeping stdout for its output.</summary>
    public static void AddProDeskHosting(this WebApplicationBuilder builder, bool commandLine)
    {
        // No "Server: Kestrel": what a scanner learns from the banner is nobody else's business.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            RequestSizeLimits.RaiseKestrelLimits(kestrel.Limits);
        });
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                // SignalR logs every exception a hub method throws as an error with its stack trace, HubException too:
                // that is our "Not found." or "Write a message first." to a caller, and anyone with a widget key could
                // fill the error log with it. Real failures (any other exception) are still logged.
                .Filter.ByExcluding(e => e.Exception is Microsoft.AspNetCore.SignalR.HubException && IsFrom(e, "Microsoft.AspNetCore.SignalR"))
                // EF Core logs a failed command as an error before the caller sees it. A unique-index race (the same
                // message or new contact arriving twice at once) is expected and retried by the caller; one the caller
                // does not handle still reaches the request's own error log.
                .Filter.ByExcluding(e => WriteConflicts.IsUniqueViolation(e.Exception) && IsFrom(e, "Microsoft.EntityFrameworkCore"))
                .WriteTo.Console(
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                    standardErrorFromLevel: commandLine ? Serilog.Events.LogEventLevel.Verbose : null);
            if (commandLine)
            {
                // A verb that fails says why in one line; EF Core's own error log of the failed command
                // (with its stack trace) would bury that line under thirty others.
                logger.MinimumLevel.Override("Microsoft.EntityFrameworkCore", Serilog.Events.LogEventLevel.Fatal);
            }
        });

        var paths = ProDeskPaths.From(builder);
        builder.Services.AddSingleton(paths);
        // A data directory made before directories were owner-only (or by hand) is made so now, before anything is written.
        PrivateFiles.Tighten(paths.DataDirectory);
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
            if (IsStorageUnavailable(context.Exception))
            {
                context.ProblemDetails.Title = "Storage unavailable";
                context.ProblemDetails.Detail = "Nothing was stored: the desk cannot write its files right now. Send the same request again later.";
                context.HttpContext.Response.Headers.RetryAfter = "60";
            }
            else if (WriteConflicts.IsConflict(context.Exception))
            {
                context.ProblemDetails.Title = "Changed by someone else at the same time";
                context.ProblemDetails.Detail = "Nothing was saved: another request changed the same thing at the same moment. Send the request again.";
                context.ProblemDetails.Extensions["reason"] = "conflict";
            }
            else if (ApiInput.FieldOf(context.Exception) is { } field)
            {
                context.ProblemDetails.Title = "One or more validation errors occurred.";
                context.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field.Field] = [field.Problem] };
            }
        });
        // After the framework's writer, which declines callers that accept no JSON.
        builder.Services.AddSingleton<IProblemDetailsWriter, ApiProblemWriter>();
        builder.AddApiInput();
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => StoredPrecisionTimes.AddTo(o.SerializerOptions.Converters));
        builder.Services.AddRazorPages();
        EmptyFormFields.Keep(builder);
        // Nested request records share short names (UpdateContact.Request, CannedRepliesApi.Request, the SLA policy's
        // Request): named by their declaring type too, or the document gave all three the SLA policy's schema.
        builder.Services.AddOpenApi(options =>
        {
            options.CreateSchemaReferenceId = info =>
                info.Type.IsNested && !info.Type.IsGenericType && Microsoft.AspNetCore.OpenApi.OpenApiOptions.CreateDefaultSchemaReferenceId(info) is { } id
                    ? $"{info.Type.DeclaringType!.Name}{id}"
                    : Microsoft.AspNetCore.OpenApi.OpenApiOptions.CreateDefaultSchemaReferenceId(info);
            OpenApiDocumentation.Describe(options);
        });
        builder.Services.AddAuthorization();
    }

    public static void UseProDeskHosting(this WebApplication app)
    {
        // Outside the exception handler, so each request is logged once with the status it was answered
        // with (a malformed request as its 400, not as a 500 with a stack trace).
        app.UseSerilogRequestLogging();
        // Every error, from an unknown API route to an exception, is an RFC 9457 problem body for API callers.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode
                : IsStorageUnavailable(e) ? StatusCodes.Status503ServiceUnavailable
                : WriteConflicts.IsConflict(e) ? StatusCodes.Status409Conflict
                : StatusCodes.Status500InternalServerError,
            // A client's malformed request is its error, answered with a 400, not an error of ours to log; a write that
            // lost a race is answered with a 409 and shows in the request log.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException || WriteConflicts.IsConflict(c.Exception),
        });
        app.UseStatusPages();
        app.UseRequestSizeLimits();
        app.UseApiInput();
        app.Use(async (context, next) =>
        {
            // RFC 9110 9.1: what answers GET answers HEAD (monitors and link checkers send it). Routed as the GET it asks
            // about; Kestrel still knows the request is a HEAD and sends the headers without the body.
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }

            context.Request.Method = HttpMethods.Get;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.Method = HttpMethods.Head;
            }
        });
    }

    /// <summary>The OpenAPI document at /openapi/v1.json and a browsable reference at /api/docs (assets served locally).</summary>
    public static void MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi();
        // No fonts from Scalar's CDN (the browser's own instead), and its inline boot script runs under the page's nonce.
        app.MapScalarApiReference("/api/docs", options => options.WithTitle("ProDesk API").DisableDefaultFonts())
            .WithCspNonceOnScripts();
    }

    /// <summary>The tenant slug problem for a tenant that does not exist or may not be seen: always 404, never a hint.</summary>
    public static IResult TenantNotFound(this HttpContext context) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Not found",
            detail: "No such tenant or resource.",
            instance: context.Request.Path);
}
