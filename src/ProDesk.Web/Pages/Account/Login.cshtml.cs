using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Pages.Account;

/// <summary>
/// Cookie sign-in. Unknown and known emails get the same answers: "invalid" for a wrong pair, and
/// the same lockout message after five failures, so the page never tells whether an account exists.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(IdentityExtensions.SignInRateLimit)]
public sealed class LoginModel(
    SignInManager<AppUser> signIn,
    UserManager<AppUser> users,
    SignInThrottle throttle,
    AuditLog audit) : PageModel
{
    public const string InvalidMessage = "Invalid email or password.";
    public const string LockedOutMessage = "Too many failed attempts. This account is locked for 15 minutes.";

    [BindProperty]
    public string Email { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Message { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var email = Email.Trim();
        var user = email.Length is > 0 and <= 320 ? await users.FindByEmailAsync(email) : null;
        // A disabled account answers as an unknown one: a leaver learns nothing, nor does anyone guessing addresses.
        if (user is not null && Identity.Accounts.UserAccounts.IsDisabled(user))
        {
            users.PasswordHasher.HashPassword(user, Password);
            var disabledLocked = throttle.IsLockedOut(email) || throttle.RecordFailure(email);
            await audit.RecordAsync(AuditLog.SignInFailed, user.Id, user.Email, "disabled account", user.TenantId);
            return Show(disabledLocked ? LockedOutMessage : InvalidMessage);
        }

        if (user is null)
        {
            // Spend the same time as a real check, and count toward the same lockout.
            users.PasswordHasher.HashPassword(new AppUser { DisplayName = "" }, Password);
            var nowLocked = throttle.IsLockedOut(email) || throttle.RecordFailure(email);
            await audit.RecordAsync(AuditLog.SignInFailed, null, email, "unknown account");
            return Show(nowLocked ? LockedOutMessage : InvalidMessage);
        }

        if (await users.IsLockedOutAsync(user))
        {
            // Identity answers a locked account without checking the password: spend the hash anyway, or the quick
            // answer tells a locked real account from an unknown address.
            users.PasswordHasher.HashPassword(user, Password);
            await audit.RecordAsync(AuditLog.LockedOut, user.Id, user.Email, tenantId: user.TenantId);
            return Show(LockedOutMessage);
        }

        var result = await signIn.PasswordSignInAsync(user, Password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            await audit.RecordAsync(AuditLog.SignIn, user.Id, user.Email, tenantId: user.TenantId);
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : await StartPages.ForAsync(users, user));
        }

        if (result.RequiresTwoFactor)
        {
            return RedirectToPage("/Account/TwoFactor", new { ReturnUrl });
        }

        if (result.IsLockedOut)
        {
            await audit.RecordAsync(AuditLog.LockedOut, user.Id, user.Email, tenantId: user.TenantId);
            return Show(LockedOutMessage);
        }

        await audit.RecordAsync(AuditLog.SignInFailed, user.Id, user.Email, tenantId: user.TenantId);
        return Show(InvalidMessage);
    }

    private PageResult Show(string message)
    {
        Message = message;
        Password = "";
        return Page();
    }
}
