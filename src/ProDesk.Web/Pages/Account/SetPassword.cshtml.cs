using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;

namespace ProDesk.Web.Pages.Account;

/// <summary>
/// Where an invitation's or a password mail's link leads: opening it changes nothing (mail scanners open every link),
/// only the person's POST with a password uses the link, which then no longer works.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(IdentityExtensions.SignInRateLimit)]
public sealed class SetPasswordModel(UserAccounts accounts) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "user")]
    public Guid UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string Token { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    public bool Done { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public void OnGet()
    {
        // The token stays out of the Referer of anything the page links to.
        Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Response.Headers["Referrer-Policy"] = "no-referrer";
        var errors = await accounts.SetPasswordAsync(UserId, Token ?? "", Password ?? "", cancellationToken);
        Password = "";
        if (errors is not null)
        {
            Errors = errors.Values.SelectMany(v => v).ToList();
            return Page();
        }

        Done = true;
        return Page();
    }
}
