using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Pages.Account;

/// <summary>Password change (which ends every other session and credential) and optional TOTP two-factor sign-in.</summary>
[Authorize(Policy = CurrentSession.Policy, AuthenticationSchemes = "Identity.Application")]
public sealed class SecurityModel(
    UserManager<AppUser> users,
    IUserStore<AppUser> userStore,
    SignInManager<AppUser> signIn,
    Credentials credentials,
    AuditLog audit) : PageModel
{
    [BindProperty]
    public string CurrentPassword { get; set; } = "";

    [BindProperty]
    public string NewPassword { get; set; } = "";

    [BindProperty]
    public string Code { get; set; } = "";

    public string? Message { get; private set; }

    public bool TwoFactorEnabled { get; private set; }

    public string AuthenticatorKey { get; private set; } = "";

    public string AuthenticatorUri { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() is null ? NotFound() : Page();

    public async Task<IActionResult> OnPostPasswordAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }

        var result = await users.ChangePasswordAsync(user, CurrentPassword, NewPassword);
        if (!result.Succeeded)
        {
            return await ShowAsync(string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        // ChangePasswordAsync renewed the security stamp, which other sessions would notice at their next check; they end now.
        await credentials.RevokeAllAsync(user, ServerSideSessions.SessionOf(User));
        await audit.RecordAsync(AuditLog.PasswordChanged, user.Id, user.Email, tenantId: user.TenantId);
        await signIn.RefreshSignInAsync(user);
        return await ShowAsync("Your password is changed. Every other session and token of yours has ended.");
    }

    public async Task<IActionResult> OnPostEnableTwoFactorAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }

        // The password first, as for turning it off: a session left open, or taken over, must not be enough to bind
        // someone else's authenticator app to the account and lock its owner out (probe round 17).
        if (!await users.CheckPasswordAsync(user, CurrentPassword))
        {
            return await ShowAsync("That password is not right; two-factor sign-in stays off.");
        }

        var code = Code.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            return await ShowAsync("That code is not valid; check the clock of your device and try again.");
        }

        await users.SetTwoFactorEnabledAsync(user, true);
        // The change renews the security stamp, which ends the user's sessions: this one goes on, as after a password change.
        await signIn.RefreshSignInAsync(user);
        await audit.RecordAsync(AuditLog.TwoFactorEnabled, user.Id, user.Email, tenantId: user.TenantId);
        return await ShowAsync("Two-factor sign-in is on.");
    }

    public async Task<IActionResult> OnPostDisableTwoFactorAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }

        // The password again: a session left open, or taken over, must not be enough to take the second factor away.
        if (!await users.CheckPasswordAsync(user, CurrentPassword))
        {
            return await ShowAsync("That password is not right; two-factor sign-in stays on.");
        }

        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await signIn.RefreshSignInAsync(user);
        await audit.RecordAsync(AuditLog.TwoFactorDisabled, user.Id, user.Email, tenantId: user.TenantId);
        return await ShowAsync("Two-factor sign-in is off.");
    }

    private async Task<IActionResult> ShowAsync(string message)
    {
        Message = message;
        return await LoadAsync() is null ? NotFound() : Page();
    }

    private async Task<AppUser?> LoadAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return null;
        }

        TwoFactorEnabled = await users.GetTwoFactorEnabledAsync(user);
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            // A first key for setting up an app. Not ResetAuthenticatorKeyAsync: that renews the
            // security stamp, which would sign the user out everywhere just for opening this page.
            key = users.GenerateNewAuthenticatorKey();
            await ((IUserAuthenticatorKeyStore<AppUser>)userStore).SetAuthenticatorKeyAsync(user, key, HttpContext.RequestAborted);
            await users.UpdateAsync(user);
        }

        AuthenticatorKey = string.Join(' ', key!.Chunk(4).Select(c => new string(c))).ToLower(CultureInfo.InvariantCulture);
        AuthenticatorUri = $"otpauth://totp/ProDesk:{Uri.EscapeDataString(user.Email!)}?secret={key}&issuer=ProDesk&digits=6";
        return user;
    }
}
