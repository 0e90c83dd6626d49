using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Hosting;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Csat;

public sealed record CsatRatingView(Guid WorkItemId, string Subject, int Solve, int Score, string? Comment, DateTime RatedAt);

/// <summary>Ratings given from <c>from</c> (inclusive) to <c>to</c> (exclusive), newest first; count and average cover the whole period.</summary>
public sealed record CsatPage(DateTime? From, DateTime? To, int Count, double? Average, IReadOnlyList<CsatRatingView> Items, string? NextCursor);

/// <summary>Customer satisfaction: the survey sent on solve, the public rating page, and the ratings for staff.</summary>
public static class CsatApi
{
    public static void AddCsat(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<CsatRequests>();
        builder.Services.AddScoped<RecordCsatRating>();
        builder.Services.AddOptions<CsatOptions>().Bind(builder.Configuration.GetSection("Csat"))
            .Validate(o => o.SurveyDays >= 1, "Csat:SurveyDays must be at least 1");
    }

    public static RouteGroupBuilder MapCsatApi(this IEndpointRouteBuilder app)
    {
        var csat = app.MapGroup("/api/v1/tenants/{tenant}/csat").RequireAuthorization(WorkItemsApi.StaffPolicy).WithTags("CSAT");
        csat.MapGet("", ListAsync).WithName("ListCsatRatings")
            .WithSummary("Satisfaction ratings given in [from, to) (ISO 8601 dates or times, UTC), newest first and cursor-paginated, with their count and average.");
        return csat;
    }

    private static async Task<Results<Ok<CsatPage>, ValidationProblem>> ListAsync(
        string? from, string? to, string? cursor, int? limit, HttpRequest request, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var since = Instant(from, "from", errors);
        var until = Instant(to, "to", errors);
        if (since is not null && until is not null && until <= since)
        {
            errors["to"] = ["must be after from"];
        }

        var size = KeysetCursor.PageSize(limit, 50, errors);

        var after = KeysetCursor.AfterTime(request, cursor, errors);

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var period = db.CsatRatings.AsNoTracking();
        if (since is { } s)
        {
            period = period.Where(r => r.RatedAt >= s);
        }

        if (until is { } u)
        {
            period = period.Where(r => r.RatedAt < u);
        }

        var count = await period.CountAsync(cancellationToken);
        var average = count == 0 ? (double?)null : Math.Round(await period.AverageAsync(r => (double)r.Score, cancellationToken), 2);
        var page = period;
        if (after is { } a)
        {
            page = page.Where(r => r.RatedAt < a.Key || (r.RatedAt == a.Key && r.Id.CompareTo(a.Id) < 0));
        }

        var rows = await page.OrderByDescending(r => r.RatedAt).ThenByDescending(r => r.Id).Take(size + 1)
            .Select(r => new { r.Id, Row = new CsatRatingView(r.WorkItemId, db.WorkItems.Where(w => w.Id == r.WorkItemId).Select(w => w.Subject).First(), r.Solve, r.Score, r.Comment, r.RatedAt) })
            .ToListAsync(cancellationToken);
        var next = rows.Count > size ? KeysetCursor.Write(request, rows[size - 1].Row.RatedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new CsatPage(since, until, count, average, [.. rows.Take(size).Select(r => r.Row)], next));
    }

    private static DateTime? Instant(string? value, string field, Dictionary<string, string[]> errors)
    {
        // "from=" is no bound, as an empty list filter is none.
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return parsed.UtcDateTime;
        }

        errors[field] = ["must be an ISO 8601 date or time, such as 2026-11-01 or 2026-11-01T09:00:00Z"];
        return null;
    }
}
