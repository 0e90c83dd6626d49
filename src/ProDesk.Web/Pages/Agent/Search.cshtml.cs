using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Pages.Agent;

/// <summary>Finds items of every client the agent serves, closed ones too, by reference, customer or subject.</summary>
[Authorize(Roles = "Agent,Supervisor,ProviderAdmin")]
public sealed class SearchModel(WorkItemSearch search) : PageModel
{
    public const int MaxQueryLength = 200;

    public string Query { get; private set; } = "";

    public WorkItemSearch.Result? Result { get; private set; }

    /// <summary>Why nothing was searched, when the query cannot be.</summary>
    public string? Problem { get; private set; }

    public async Task OnGetAsync(string? q, CancellationToken cancellationToken)
    {
        Query = q?.Trim() ?? "";
        if (Query.Length == 0)
        {
            return;
        }

        if (Query.Length > MaxQueryLength)
        {
            Problem = $"Search for at most {MaxQueryLength} characters.";
            return;
        }

        Result = await search.FindAsync(Query, cancellationToken);
    }
}
