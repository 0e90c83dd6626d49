using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Csat;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Csat;

/// <summary>
/// The page a rating link opens, for the customer (no sign-in). Opening it (GET, HEAD), with or without
/// script, stores nothing: mail scanners and link previews open every link of a mail, best score to worst, and
/// security gateways do it in a headless browser that runs the page's scripts (probe round 19: an auto-sending
/// script left every such customer's rating at 1). The page shows the clicked score chosen and an optional
/// comment, says the rating is not sent yet, and records only the customer's "Send my rating" (a POST with the
/// antiforgery token), then thanks them and offers to change the score or the comment. Shows the tenant's name
/// and the score, nothing else of the item. The tenant comes from the signed token, not from the host or the
/// caller, so the page runs outside tenant resolution.
/// </summary>
[AllowAnonymous]
[NoTenant]
public sealed class RateModel(RecordCsatRating record, Microsoft.Extensions.Options.IOptions<CsatOptions> options, ITenantStore tenants) : PageModel
{
    public string TenantName { get; private set; } = "";

    public int Score { get; private set; }

    public string? Comment { get; private set; }

    public string Token { get; private set; } = "";

    public bool CommentSaved { get; private set; }

    /// <summary>The comment was longer than a rating keeps: not saved, and not cut short without a word (probe round 17).</summary>
    public bool CommentTooLong { get; private set; }

    /// <summary>The score is stored (after the POST, or an earlier one with this score); false shows the page that sends it.</summary>
    public bool Recorded { get; private set; }

    /// <summary>A link whose score was edited (0, 6, "x"): the customer is offered the scale again, with the token still checked.</summary>
    public bool NotAScore { get; private set; }

    /// <summary>The score stored for this solve before, shown when the page offers another one.</summary>
    public int? StoredScore { get; private set; }

    /// <summary>The survey closed (<see cref="CsatOptions.SurveyDays"/> after the solve): the page says so and records nothing.</summary>
    public bool Closed { get; private set; }

    public int SurveyDays => options.Value.SurveyDays;

    /// <summary>
    /// A survey is its client's: on another client's own host (HostTenant) the page is not found, as a forged link is.
    /// The token names its tenant in the clear; whether it is genuine is checked after.
    /// </summary>
    public override async Task OnPageHandlerExecutionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context, Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutionDelegate next)
    {
        if (RouteData.Values["token"] is string token && ProDesk.Domain.Csat.CsatToken.TryPeekTenant(token, out var tenantId)
            && await HostTenant.IsAnotherTenantsAsync(HttpContext, tenants, t => t.Id == tenantId))
        {
            context.Result = NotFound();
            return;
        }

        await next();
    }

    public async Task<IActionResult> OnGetAsync(string token, string score, CancellationToken cancellationToken) =>
        ScoreOf(score) is { } valid
            ? Show(token, await record.HandleAsync(token, valid, null, setComment: false, cancellationToken, save: false))
            : await ChooseAgainAsync(token, cancellationToken);

    /// <summary>
    /// The customer's Send: the score chosen on the page (<c>rating</c>, else the link's), and the comment when the
    /// form sent one (a form without a comment field keeps a comment made before).
    /// </summary>
    public async Task<IActionResult> OnPostAsync(string token, string score, [FromForm] string? rating, [FromForm] string? comment, CancellationToken cancellationToken)
    {
        if (ScoreOf(string.IsNullOrEmpty(rating) ? score : rating) is not { } valid)
        {
            return await ChooseAgainAsync(token, cancellationToken);
        }

        return await RecordAsync(token, valid, comment, cancellationToken);
    }

    private static int? ScoreOf(string score) =>
        int.TryParse(score, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 5 ? value : null;

    /// <summary>400 with the scale for a genuine link whose score is not one; 404, as for any other forged link, when the token is not genuine.</summary>
    private async Task<IActionResult> ChooseAgainAsync(string token, CancellationToken cancellationToken)
    {
        var result = Show(token, await record.HandleAsync(token, 5, null, setComment: false, cancellationToken, save: false));
        if (result is PageResult && !Closed)
        {
            NotAScore = true;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return result;
    }

    private async Task<IActionResult> RecordAsync(string token, int score, string? comment, CancellationToken cancellationToken)
    {
        var withComment = Request.HasFormContentType && Request.Form.ContainsKey("comment");
        var tooLong = withComment && comment?.Length > RecordCsatRating.MaxCommentLength;
        var result = Show(token, await record.HandleAsync(token, score, comment, setComment: withComment && !tooLong, cancellationToken));
        // The rating form always sends its comment box; an empty one is no comment to thank for.
        CommentSaved = withComment && !tooLong && result is PageResult && !Closed && Comment is not null;
        if (tooLong && result is PageResult && !Closed)
        {
            CommentTooLong = true;
            Comment = comment;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return result;
    }

    private IActionResult Show(string token, RecordCsatRating.Rated? rated)
    {
        if (rated is null)
        {
            return NotFound();
        }

        if (rated.Closed)
        {
            // Gone rather than not found: the link was genuine, and the page says the survey has closed.
            Response.StatusCode = StatusCodes.Status410Gone;
        }

        // The link is the customer's key to their rating: not cached, not passed on in a Referer.
        Response.Headers.CacheControl = "no-store";
        Response.Headers["Referrer-Policy"] = "no-referrer";
        Response.Headers["X-Robots-Tag"] = "noindex";
        (Token, TenantName, Score, Comment, Recorded, StoredScore, Closed) =
            (token, rated.TenantName, rated.Score, rated.Comment, rated.Recorded, rated.StoredScore, rated.Closed);
        return Page();
    }
}
