using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using ProDesk.Web.Hosting;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Reports;

/// <summary>
/// <c>GET /api/v1/tenants/{tenant}/reports/sla?from=&amp;to=&amp;groupBy=</c> (CONTRACT.md): SLA compliance of the
/// tenant's items created in a period, as JSON or, with <c>Accept: text/csv</c>, as a CSV file. Anyone who may see the
/// tenant reads it: its client admins and viewers, its integration client, the provider staff serving it.
/// </summary>
public static class SlaReportApi
{
    /// <summary>The longest period one report covers.</summary>
    public const int MaxDays = 366;

    /// <summary>Without <c>from</c>, the period is this many days before <c>to</c>.</summary>
    private const int DefaultDays = 30;

    public static void MapSlaReport(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/tenants/{tenant}/reports/sla", GetAsync).RequireAuthorization().WithTags("Reports")
            .WithName("SlaReport")
            .WithSummary("SLA compliance of the items created from `from` (inclusive) to `to` (exclusive; dates or ISO 8601 times, " +
                "default the last 30 days, at most 366), grouped by queue (default), channel, priority or day (in the tenant's time zone). " +
                "`Accept: text/csv` (or `format=csv`) gives CSV.")
            .Produces<SlaReportResult>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status200OK, contentType: "text/csv");

    public static void AddReports(this WebApplicationBuilder builder) => builder.Services.AddScoped<SlaReport>();

    private static async Task<Results<Ok<SlaReportResult>, FileContentHttpResult, ValidationProblem>> GetAsync(
        string? from, string? to, string? groupBy, string? format, HttpContext context, SlaReport report, ITenantContext tenants,
        ITenantOptions<TenantCalendarOptions> calendars, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // A date is a day of the client's: it starts at midnight where the client is, as the day groups do.
        var zone = tenants.Current is { } tenant ? calendars.OfTenant(tenant).TimeZone : TimeZoneInfo.Utc;
        var end = Instant(to, "to", zone, errors) ?? clock.GetUtcNow().UtcDateTime;
        var start = Instant(from, "from", zone, errors) ?? end.AddDays(-DefaultDays);
        if (errors.Count == 0 && start >= end)
        {
            errors["to"] = ["must be after from"];
        }
        else if (errors.Count == 0 && end - start > TimeSpan.FromDays(MaxDays))
        {
            errors["to"] = [$"must be at most {MaxDays} days after from"];
        }

        var grouping = SlaReportGrouping.Queue;
        if (!string.IsNullOrEmpty(groupBy) && !EnumNames.TryParse(groupBy, ignoreCase: true, out grouping))
        {
            errors["groupBy"] = ["must be one of queue, channel, priority, day"];
        }

        // A link in a page cannot set Accept: format=csv asks for the same file (the portal's downloads).
        if (!string.IsNullOrEmpty(format) && format is not ("csv" or "json"))
        {
            errors["format"] = ["must be csv or json (or leave it out and send Accept: text/csv)"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var result = await report.RunAsync(start, end, grouping, cancellationToken);
        return format == "csv" || (format is null or "" && WantsCsv(context.Request))
            ? TypedResults.File(Csv(result), "text/csv; charset=utf-8", FileName(result, zone))
            : TypedResults.Ok(result);
    }

    /// <summary>
    /// Named by the client's own days, first and last included: November in Paris is "2026-11-01-2026-11-30". The period's
    /// ends are UTC instants, so the name used to say "2026-10-31-2026-11-30", one day early and ending on the excluded day (probe round 19).
    /// </summary>
    private static string FileName(SlaReportResult result, TimeZoneInfo zone)
    {
        var first = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(result.From, DateTimeKind.Utc), zone);
        var last = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(result.To, DateTimeKind.Utc).AddTicks(-1), zone);
        return $"sla-{result.Tenant}-{first:yyyy-MM-dd}-{last:yyyy-MM-dd}-by-{result.GroupBy}.csv";
    }

    /// <summary>
    /// A date (its midnight in <paramref name="zone"/>) or an ISO 8601 time with an offset or Z, in UTC, from 1970 on;
    /// null when not given; an error when unreadable.
    /// </summary>
    private static DateTime? Instant(string? value, string field, TimeZoneInfo zone, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        DateTime? instant = null;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
            // A zone whose clocks skip midnight (a DST change at 00:00) starts that day an hour later.
            instant = TimeZoneInfo.ConvertTimeToUtc(zone.IsInvalidTime(midnight) ? midnight.AddHours(1) : midnight, zone);
        }
        else if (value.Length is > 10 and <= 40 && (value.EndsWith('Z') || value.LastIndexOfAny(['+', '-']) > 10)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            instant = time.UtcDateTime;
        }

        if (instant is { Year: >= 1970 } ok)
        {
            return ok;
        }

        errors[field] = ["must be a date (2026-11-01) or an ISO 8601 time with its offset (2026-11-01T08:00:00Z), from 1970 on"];
        return null;
    }

    private static bool WantsCsv(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(Func<string, bool> matches) =>
            accept.Where(a => a.MediaType.Value is { } type && matches(type)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var csv = Quality(t => t.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
        return csv > 0 && csv >= Quality(t => t.Equals("application/json", StringComparison.OrdinalIgnoreCase));
    }

    private static readonly string[] Targets = ["firstResponse", "nextResponse", "resolution"];

    /// <summary>One line per group and measured target, then the totals; figures without a value are empty.</summary>
    private static byte[] Csv(SlaReportResult result)
    {
        var csv = new StringBuilder("group,items,target,met,breached,open,stopped,compliance_percent,average_minutes\r\n");
        foreach (var row in result.Rows.Append(result.Total))
        {
            foreach (var target in Targets.Where(row.Targets.ContainsKey))
            {
                var f = row.Targets[target];
                csv.Append(CultureInfo.InvariantCulture, $"{Field(row.Group)},{row.Items},{target},{f.Met},{f.Breached},{f.Open},{f.Stopped},{f.CompliancePercent},{f.AverageMinutes}\r\n");
            }

            if (row.Targets.Count == 0)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{Field(row.Group)},{row.Items},,,,,,,\r\n");
            }
        }

        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    /// <summary>Quoted when it must be, and never read as a formula by a spreadsheet (a leading = + - @).</summary>
    private static string Field(string value)
    {
        var text = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }
}
