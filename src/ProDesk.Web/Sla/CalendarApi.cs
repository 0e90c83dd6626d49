using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>A tenant's business calendar as the API shows it: time zone, weekly hours (monday first), holidays by date.</summary>
public sealed record CalendarView(string Tenant, string TimeZone, bool AlwaysOpen, IReadOnlyDictionary<string, IReadOnlyList<string>> WeeklyHours, IReadOnlyList<HolidayDocument> Holidays)
{
    private static readonly string[] Week = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    public static CalendarView From(string slug, string timeZone, CalendarDocument document) => new(
        slug,
        timeZone,
        document.AlwaysOpen,
        document.WeeklyHours.OrderBy(d => Array.IndexOf(Week, d.Key.ToLowerInvariant())).ToDictionary(d => d.Key, d => (IReadOnlyList<string>)d.Value),
        [.. document.Holidays.OrderBy(h => h.Date)]);
}

public sealed record HolidayImportView(IReadOnlyList<HolidayDocument> Added, int AlreadyListed, CalendarView Calendar);

/// <summary>Provider admins read a tenant's business calendar and import holidays into it from an iCalendar file.</summary>
public static class CalendarApi
{
    public const string CalendarMediaType = "text/calendar";

    public static RouteGroupBuilder MapCalendarApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/v1/tenants/{tenant}").RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("SLA");
        tenant.MapGet("/calendar", GetAsync).WithName("GetCalendar")
            .WithSummary("The tenant's business calendar: time zone, weekly hours and holidays (provider admins).");
        tenant.MapPut("/calendar/holidays", ImportAsync).Accepts<string>(CalendarMediaType).WithName("ImportHolidays")
            .WithSummary("Adds the dates of an iCalendar file (text/calendar, at most 1 MB) to the tenant's holidays: all-day events give each date they cover, timed events the date they start on in the tenant's time zone, recurring events their occurrences in the next two years. Dates already listed keep their name.");
        tenant.MapDelete("/calendar/holidays/{date}", RemoveAsync).WithName("RemoveHoliday")
            .WithSummary("Takes one date (yyyy-MM-dd) off the tenant's holidays; deadlines computed from now on count it as a working day. 404 when it is not a holiday.");
        return tenant;
    }

    private static async Task<Results<Ok<CalendarView>, NotFound, ValidationProblem>> RemoveAsync(
        string date, ITenantContext tenantContext, ImportHolidays holidays, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["date"] = ["must be a date as yyyy-MM-dd"] });
        }

        return await holidays.RemoveAsync(tenant, day, user, cancellationToken) is { } calendar ? TypedResults.Ok(calendar) : TypedResults.NotFound();
    }

    private static async Task<Results<Ok<CalendarView>, NotFound>> GetAsync(ITenantContext tenantContext, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        // The registry row rather than the cached TenantInfo: an import on another node shows at once.
        var row = await db.Tenants.AsNoTracking().Where(t => t.Id == tenant.Id).Select(t => new { t.CalendarJson, t.TimeZone }).FirstAsync(cancellationToken);
        var document = JsonSerializer.Deserialize<CalendarDocument>(row.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument();
        return TypedResults.Ok(CalendarView.From(tenant.Slug, row.TimeZone, document));
    }

    private static async Task<Results<Ok<HolidayImportView>, NotFound, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpRequest request, ITenantContext tenantContext, ImportHolidays import, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals(CalendarMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: $"body: send the .ics file itself with Content-Type: {CalendarMediaType}");
        }

        if (await ReadAsync(request, HolidayImport.MaxBytes, cancellationToken) is not { } ics)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Calendar too large",
                detail: $"body: at most {HolidayImport.MaxBytes} bytes");
        }

        if (string.IsNullOrWhiteSpace(ics))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["is empty; send an iCalendar (.ics) file"] });
        }

        var result = await import.HandleAsync(tenant, ics, user, cancellationToken);
        return result.Error is { } error
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [error] })
            : TypedResults.Ok(new HolidayImportView(result.Added, result.AlreadyListed, result.Calendar!));
    }

    /// <summary>The body as UTF-8 text (RFC 5545's charset), or null when it is longer than <paramref name="max"/> bytes.</summary>
    internal static async Task<string?> ReadAsync(HttpRequest request, int max, CancellationToken cancellationToken)
    {
        if (request.ContentLength > max)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    internal static string Decode(ReadOnlySpan<byte> bytes) =>
        Encoding.UTF8.GetString(bytes.StartsWith(Encoding.UTF8.Preamble) ? bytes[Encoding.UTF8.Preamble.Length..] : bytes);
}
