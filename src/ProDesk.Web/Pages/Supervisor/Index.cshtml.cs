using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Pages.Supervisor;

/// <summary>The wallboard: queue depth per client and queue, oldest waiting, agents and what they are on; live.</summary>
[Authorize(Roles = "Supervisor,ProviderAdmin")]
public sealed class IndexModel(Wallboard wallboard) : PageModel
{
    public IReadOnlyList<Wallboard.QueueLine> Queues { get; private set; } = [];

    public IReadOnlyList<Wallboard.AgentLine> Agents { get; private set; } = [];

    /// <summary>The served clients' mailboxes whose polling fails: their customers' mail is not coming in.</summary>
    public IReadOnlyList<Wallboard.MailboxLine> FailingMailboxes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => await ReadAsync(cancellationToken);

    public async Task<IActionResult> OnGetBoardAsync(CancellationToken cancellationToken)
    {
        await ReadAsync(cancellationToken);
        return Partial("_Board", this);
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        (Queues, Agents) = await wallboard.ReadAsync(cancellationToken);
        FailingMailboxes = [.. (await wallboard.ReadMailboxesAsync(cancellationToken)).Where(m => m.Error is not null)];
    }

    public static string Age(TimeSpan? age) => age switch
    {
        null => "—",
        { TotalMinutes: < 1 } => "under a minute",
        { TotalHours: < 1 } a => $"{(int)a.TotalMinutes} min",
        { TotalDays: < 1 } a => $"{(int)a.TotalHours} h {a.Minutes} min",
        { } a => $"{(int)a.TotalDays} d {a.Hours} h",
    };
}
