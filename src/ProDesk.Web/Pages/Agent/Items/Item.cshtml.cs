using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Agent.Items;

/// <summary>One item in the console: its thread, reply box, note, status; presence shows live.</summary>
[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class ItemModel(ProDeskDbContext db, ITenantContext tenantContext) : PageModel
{
    public WorkItem Item { get; private set; } = null!;

    public TenantInfo Tenant { get; private set; } = null!;

    public IReadOnlyList<WorkItemStatus> Moves { get; private set; } = [];

    public IReadOnlyList<WorkItemAttachment> Attachments { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        // The route's tenant is the scope (resolution middleware): another tenant's item is not found.
        if (tenantContext.Current is not { } tenant
            || await db.WorkItems.AsNoTracking().Include(w => w.Messages).FirstOrDefaultAsync(w => w.Id == id, cancellationToken) is not { } item)
        {
            return NotFound();
        }

        Tenant = tenant;
        Item = item;
        Moves = WorkItemStatusMachine.MovesFrom(item.Status);
        Attachments = await db.WorkItemAttachments.AsNoTracking().Where(a => a.WorkItemId == id).OrderBy(a => a.CreatedAt).ToListAsync(cancellationToken);
        return Page();
    }
}
