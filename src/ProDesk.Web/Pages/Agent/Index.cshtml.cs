using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Pages.Agent;

/// <summary>The agent console: one queue across every client the agent serves, live.</summary>
[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext, AgentQueue queue) : PageModel
{
    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    /// <summary>How many of the most urgent items the console lists; "next item" and the API reach the rest.</summary>
    public const int Shown = 200;

    public IReadOnlyList<AgentQueue.Row> Rows { get; private set; } = [];

    /// <summary>More active items are waiting than <see cref="Shown"/>.</summary>
    public bool More { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => (Rows, More) = await queue.ListAsync(Shown, cancellationToken);

    /// <summary>Just the queue table, for the console to swap in when an event arrives or after a reconnect.</summary>
    public async Task<IActionResult> OnGetQueueAsync(CancellationToken cancellationToken)
    {
        (Rows, More) = await queue.ListAsync(Shown, cancellationToken);
        return Partial("_Queue", this);
    }
}
