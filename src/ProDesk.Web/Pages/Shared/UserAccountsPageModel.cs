using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace ProDesk.Web.Pages;

/// <summary>
/// What the provider admin's staff accounts page and a client admin's portal users page share: one place's users
/// (<see cref="TenantId"/>: null for provider staff) and the forms that invite, disable, enable and mail a link again,
/// through the same <see cref="UserAccounts"/> as the API. A user of another place is 404.
/// </summary>
public abstract class UserAccountsPageModel(UserAccounts accounts, ProDeskDbContext db, ITenantStore tenants) : PageModel
{
    public IReadOnlyList<UserAccounts.UserView> Users { get; private set; } = [];

    public string? Message { get; private set; }

    public abstract IReadOnlyList<string> InvitableRoles { get; }

    /// <summary>The place whose users the page manages; null for provider staff.</summary>
    protected abstract TenantInfo? Tenant { get; }

    private Guid? TenantId => Tenant?.Id;

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostInviteAsync(string? email, string? name, string? role, CancellationToken cancellationToken)
    {
        var outcome = await accounts.InviteAsync(new UserAccounts.InviteRequest(email, name, role), Tenant, InvitableRoles, User, cancellationToken);
        return await ShowAsync(outcome.Errors is { } errors
            ? string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))
            : $"{outcome.User!.Email} is invited: a mail with a link to set their password is on its way.", cancellationToken);
    }

    public Task<IActionResult> OnPostDisableAsync(Guid id, CancellationToken cancellationToken) => SetDisabledAsync(id, true, cancellationToken);

    public Task<IActionResult> OnPostEnableAsync(Guid id, CancellationToken cancellationToken) => SetDisabledAsync(id, false, cancellationToken);

    public async Task<IActionResult> OnPostResendAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, cancellationToken) is not { } user)
        {
            return NotFound();
        }

        return await ShowAsync(await accounts.ResendInvitationAsync(user, User, cancellationToken)
            ? $"A link to set a password is on its way to {user.Email}."
            : $"{user.Email} is disabled: enable them first.", cancellationToken);
    }

    private async Task<IActionResult> SetDisabledAsync(Guid id, bool disabled, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, cancellationToken) is not { } user)
        {
            return NotFound();
        }

        if (disabled && user.Id.ToString() == User.FindFirst(Identity.ProDeskClaims.Subject)?.Value)
        {
            return await ShowAsync("You cannot disable yourself.", cancellationToken);
        }

        await accounts.SetDisabledAsync(user, disabled, User, cancellationToken);
        return await ShowAsync(disabled
            ? $"{user.Email} is disabled: signed out everywhere, every token ended."
            : $"{user.Email} is enabled: they can sign in again.", cancellationToken);
    }

    private Task<AppUser?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Users.SingleOrDefaultAsync(u => u.Id == id && u.TenantId == TenantId, cancellationToken);

    private async Task<IActionResult> ShowAsync(string message, CancellationToken cancellationToken)
    {
        Message = message;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Users = await accounts.ListAsync(TenantId, tenants, cancellationToken);
}
