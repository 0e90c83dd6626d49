using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;

namespace ProDesk.Web.Pages.Account;

/// <summary>
/// "Forgot your password?": the same answer whether or not the address is a user's (the mail leaves from a queue, so
/// the answer takes as long either way), limited per client address as sign-in is, and per user by the mails sent.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(IdentityExtensions.SignInRateLimit)]
public sealed class ForgotPasswordModel(UserAccounts accounts) : PageModel
{
    public const string SentMessage = "If this address belongs to an account, a link to set a new password is on its way. It works once, and for a limited time.";

    [BindProperty]
    public string Email { get; set; } = "";

    public bool Sent { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        await accounts.RequestPasswordLinkAsync((Email ?? "").Trim(), cancellationToken);
        Sent = true;
        return Page();
    }
}
