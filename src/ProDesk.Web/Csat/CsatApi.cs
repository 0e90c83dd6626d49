using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Csat;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Csat;

public sealed record CsatRatingView(Guid WorkItemId, string Subject, int Solve, int Score, string? Comment, DateTime RatedAt);

/// <summary>Ratings given from <c>from</c> (inclusive) to <c>to</c> (exclusive), newest first; count, average and distribution cover the whole period.</summary>
/// <param name="Distribution">How many ratings gave each score, "1" to "5" (every score present, 0 when none).</param>
public sealed record CsatPage(DateTime? From, DateTime? To, int Count, double? Average, IReadOnlyList<CsatRatingView> Items, string? NextCursor, IReadOnlyDictionary<string, int> Distribution);

/// <summary>An item's latest rating (of its latest rated solve), as the item API and the agent's item page show it.</summary>
public sealed record ItemCsatView(int Solve, int Score, string? Comment, DateTime RatedAt);

/// <summary>A period's figures: how many ratings, their average (two decimals, null when none) and how many gave each score.</summary>
public sealed record CsatFigures(int Count, double? Average, IReadOnlyDictionary<string, int> Distribution)
{
    /// <summary>One grouped query over the ratings of <paramref name="period"/>.</summary>
    public static async Task<CsatFigures> OfAsync(IQueryable<CsatRating> period, CancellationToken cancellationToken)
    {
        var byScore = await period.GroupBy(r => r.Score).Select(g => new { Score = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Score, g => g.Count, cancellationToken);
        var count = byScore.Values.Sum();
        var average = count == 0 ? (double?)null : Math.Round(byScore.Sum(g => (double)g.Key * g.Value) / count, 2);
        return new CsatFigures(count, average, Enumerable.Range(1, 5).ToDictionary(s => s.ToString(CultureInfo.InvariantCulture), s => byScore.GetValueOrDefault(s)));
    }
}

/// <summary>
/// Customer satisfaction: the survey sent on solve, the public rating page, and the ratings for whoever may see the
/// tenant: its provider staff, and the client company itself (its admins, viewers and integration), whose customers
/// gave them and which is billed on its service's quality (probe round 19: it could not see them).
/// </summary>
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
        // Anyone who may see the tenant, as the SLA report: tenant resolution answers 404 for another tenant.
        var csat = app.MapGroup("/api/v1/tenants/{tenant}/csat").RequireAuthorization().WithTags("CSAT");
        csat.MapGet("", ListAsync).WithName("ListCsatRatings")
            .WithSummary("Satisfaction ratings given in [from, to) (ISO 8601 dates or times, UTC), newest first and cursor-paginated, with their count, average and distribution.");
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

        var figures = await CsatFigures.OfAsync(period, cancellationToken);
        var page = period;
        if (after is { } a)
        {
            page = page.Where(r => r.RatedAt < a.Key || (r.RatedAt == a.Key && r.Id.CompareTo(a.Id) < 0));
        }

        var rows = await page.OrderByDescending(r => r.RatedAt).ThenByDescending(r => r.Id).Take(size + 1)
            .Select(r => new { r.Id, Row = new CsatRatingView(r.WorkItemId, db.WorkItems.Where(w => w.Id == r.WorkItemId).Select(w => w.Subject).First(), r.Solve, r.Score, r.Comment, r.RatedAt) })
            .ToListAsync(cancellationToken);
        var next = rows.Count > size ? KeysetCursor.Write(request, rows[size - 1].Row.RatedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new CsatPage(since, until, figures.Count, figures.Average, [.. rows.Take(size).Select(r => r.Row)], next, figures.Distribution));
    }

    /// <summary>The rating of the item's latest rated solve; null when it has none.</summary>
    public static Task<ItemCsatView?> OfItemAsync(ProDeskDbContext db, Guid itemId, CancellationToken cancellationToken) =>
        db.CsatRatings.AsNoTracking().Where(r => r.WorkItemId == itemId).OrderByDescending(r => r.Solve)
            .Select(r => new ItemCsatView(r.Solve, r.Score, r.Comment, r.RatedAt)).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The latest ratings with a comment in [from, to), newest first, with their item's subject.</summary>
    public static Task<List<CsatRatingView>> LatestCommentsAsync(ProDeskDbContext db, DateTime from, DateTime to, int count, CancellationToken cancellationToken) =>
        db.CsatRatings.AsNoTracking().Where(r => r.RatedAt >= from && r.RatedAt < to && r.Comment != null)
            .OrderByDescending(r => r.RatedAt).ThenByDescending(r => r.Id).Take(count)
            .Select(r => new CsatRatingView(r.WorkItemId, db.WorkItems.Where(w => w.Id == r.WorkItemId).Select(w => w.Subject).First(), r.Solve, r.Score, r.Comment, r.RatedAt))
            .ToListAsync(cancellationToken);

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
