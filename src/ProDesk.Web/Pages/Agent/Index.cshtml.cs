using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Domain.Routing;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Pages.Agent;

/// <summary>The agent console: one queue across every client the agent serves, live.</summary>
[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class IndexModel(ITenantContext tenantContext, AgentQueue queue, IAgentPresence presence) : PageModel
{
    public IReadOnlyList<TenantInfo> Tenants => tenantContext.Scope.Tenants;

    /// <summary>How many of the most urgent items the console lists; "next item" and the API reach the rest.</summary>
    public const int Shown = 200;

    public IReadOnlyList<AgentQueue.Row> Rows { get; private set; } = [];

    /// <summary>More active items are waiting than <see cref="Shown"/>.</summary>
    public bool More { get; private set; }

    /// <summary>
    /// The status the agent chose, as presence holds it whether or not a page is connected while this renders (the
    /// page being left has usually closed its connection): the picker shows the choice, which stays (probe round 20).
    /// </summary>
    public AgentStatus Status { get; private set; } = AgentStatus.Online;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        (Rows, More) = await queue.ListAsync(Shown, cancellationToken);
        var me = Guid.TryParse(User.FindFirst(Identity.ProDeskClaims.Subject)?.Value, out var id) ? id : Guid.Empty;
        Status = await presence.ChosenAsync(me, cancellationToken);
    }

    /// <summary>Just the queue table, for the console to swap in when an event arrives or after a reconnect.</summary>
    public async Task<IActionResult> OnGetQueueAsync(CancellationToken cancellationToken)
    {
        (Rows, More) = await queue.ListAsync(Shown, cancellationToken);
        return Partial("_Queue", this);
    }
}
