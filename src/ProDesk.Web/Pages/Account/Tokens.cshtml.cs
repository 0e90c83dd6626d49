using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Pages.Account;

[Authorize(Policy = CurrentSession.Policy, AuthenticationSchemes = "Identity.Application")]
public sealed class TokensModel(UserManager<AppUser> users, PersonalAccessTokens tokens) : PageModel
{
    [BindProperty]
    public string Name { get; set; } = "";

    /// <summary>Shown once, on the page the create redirects to: a refresh of a POST's answer created a second token (probe round 19).</summary>
    [TempData]
    public string? NewSecret { get; set; }

    public IReadOnlyList<PersonalAccessToken> Tokens { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostCreateAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }

        NewSecret = (await tokens.CreateAsync(user, Name)).Secret;
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id)
    {
        if (await users.GetUserAsync(User) is not { } user || !await tokens.RevokeAsync(user, id))
        {
            return NotFound();
        }

        return RedirectToPage();
    }

    private async Task<bool> LoadAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return false;
        }

        Tokens = await tokens.ListAsync(user.Id);
        return true;
    }
}
