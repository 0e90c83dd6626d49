using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin.Staff;

/// <summary>A provider admin sets which client companies each member of staff serves.</summary>
[Authorize(Policy = CurrentSession.ProviderAdminPolicy)]
public sealed class IndexModel(StaffDirectory directory, ITenantStore tenantStore) : PageModel
{
    public IReadOnlyList<StaffDirectory.Member> Staff { get; private set; } = [];

    public IReadOnlyList<TenantInfo> Tenants { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAsync(Guid id, string[] tenants)
    {
        if (await directory.FindAsync(id) is not { } member)
        {
            return NotFound();
        }

        var chosen = (await tenantStore.ListAsync()).Where(t => tenants.Contains(t.Slug)).ToList();
        await directory.AssignAsync(member, chosen, User);
        Message = $"{member.DisplayName} now serves {(chosen.Count == 0 ? "no client" : string.Join(", ", chosen.Select(t => t.Slug)))}.";
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        Tenants = await tenantStore.ListAsync();
        Staff = await directory.ListAsync();
    }
}
