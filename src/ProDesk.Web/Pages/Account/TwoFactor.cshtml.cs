using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Pages.Account;

/// <summary>The second step of sign-in for users who turned on an authenticator app (TOTP).</summary>
[AllowAnonymous]
[EnableRateLimiting(IdentityExtensions.SignInRateLimit)]
public sealed class TwoFactorModel(SignInManager<AppUser> signIn, UserManager<AppUser> users, AuditLog audit) : PageModel
{
    [BindProperty]
    public string Code { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync() =>
        await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("/Account/Login") : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await signIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return RedirectToPage("/Account/Login");
        }

        var code = Code.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        var result = await signIn.TwoFactorAuthenticatorSignInAsync(code, isPersistent: false, rememberClient: false);
        if (result.Succeeded)
        {
            await audit.RecordAsync(AuditLog.SignIn, user.Id, user.Email, "with authenticator code", user.TenantId);
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : await StartPages.ForAsync(users, user));
        }

        await audit.RecordAsync(result.IsLockedOut ? AuditLog.LockedOut : AuditLog.SignInFailed, user.Id, user.Email, "authenticator code", user.TenantId);
        Message = result.IsLockedOut ? LoginModel.LockedOutMessage : "That code is not valid.";
        return Page();
    }
}
