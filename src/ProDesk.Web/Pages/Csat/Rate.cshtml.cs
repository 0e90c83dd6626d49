using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Csat;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Csat;

/// <summary>
/// The page a rating link opens, for the customer (no sign-in): records the score at once, thanks
/// them, and offers to change the score or add a comment. Shows the tenant's name and the score,
/// nothing else of the item. The tenant comes from the signed token, not from the host or the
/// caller, so the page runs outside tenant resolution.
/// </summary>
[AllowAnonymous]
[NoTenant]
public sealed class RateModel(RecordCsatRating record) : PageModel
{
    public string TenantName { get; private set; } = "";

    public int Score { get; private set; }

    public string? Comment { get; private set; }

    public string Token { get; private set; } = "";

    public bool CommentSaved { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token, int score, CancellationToken cancellationToken) =>
        Show(token, await record.HandleAsync(token, score, null, setComment: false, cancellationToken));

    public async Task<IActionResult> OnPostAsync(string token, int score, [FromForm] string? comment, CancellationToken cancellationToken)
    {
        var result = Show(token, await record.HandleAsync(token, score, comment, setComment: true, cancellationToken));
        CommentSaved = result is PageResult;
        return result;
    }

    private IActionResult Show(string token, RecordCsatRating.Rated? rated)
    {
        if (rated is null)
        {
            return NotFound();
        }

        // The link is the customer's key to their rating: not cached, not passed on in a Referer.
        Response.Headers.CacheControl = "no-store";
        Response.Headers["Referrer-Policy"] = "no-referrer";
        Response.Headers["X-Robots-Tag"] = "noindex";
        (Token, TenantName, Score, Comment) = (token, rated.TenantName, rated.Score, rated.Comment);
        return Page();
    }
}
