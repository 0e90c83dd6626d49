using System.Net.Http.Json;
using AngleSharp.Html.Parser;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>
/// What the item page offers about who works the item, as the reader and the item stand: "Assign to me" on unassigned
/// work, "Unassign" on one's own, and on a colleague's the colleague's name, with "Take over" where the assignee route
/// allows it (supervisors): an agent was offered "Assign to me" there, which the route refuses.
/// </summary>
public sealed class ItemPageAssigneeTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<AngleSharp.Html.Dom.IHtmlDocument> PageAsync(string email, Guid id) =>
        new HtmlParser().ParseDocument(await (await App.SignedInAsync(email)).GetStringAsync($"/agent/items/acme/{id}"));

    private static string[] Buttons(AngleSharp.Html.Dom.IHtmlDocument page) =>
        [.. page.QuerySelectorAll("form[data-assign] button").Select(b => b.TextContent.Trim())];

    [Fact]
    public async Task Unassigned_work_offers_assign_to_me_ones_own_unassign_and_a_colleagues_names_them_and_only_a_supervisor_may_take_it_over()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "offer-1", "Who has it");
        Assert.Contains("Assign to me", Buttons(await PageAsync("agent1@prodesk.test", id)));

        var alex = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await alex.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/assignee", new { assigneeId = (await App.UserAsync("agent1@prodesk.test")).Id })).EnsureSuccessStatusCode();

        var own = Buttons(await PageAsync("agent1@prodesk.test", id));
        Assert.Contains("Unassign", own);
        Assert.DoesNotContain("Assign to me", own);

        var colleague = await PageAsync("agent2@prodesk.test", id);
        Assert.Empty(Buttons(colleague));
        Assert.Equal("assigned to Alex Martin", colleague.QuerySelector("[data-testid=assignee]")!.TextContent);
        Assert.Equal("Alex Martin works this item; a supervisor can hand it over.", colleague.QuerySelector("[data-testid=assignee-note]")!.TextContent);

        var supervisor = await PageAsync("supervisor@prodesk.test", id);
        Assert.Contains("Take over", Buttons(supervisor));
        Assert.DoesNotContain("Assign to me", Buttons(supervisor).Except(["Yes, take it over"]));
        // The take-over is confirmed in the page first: its question is there, hidden until asked.
        var confirm = supervisor.QuerySelector("[data-testid=take-over-confirm]")!;
        Assert.True(confirm.HasAttribute("hidden"));
        Assert.StartsWith("Alex Martin works this item. Take it over?", confirm.TextContent.Trim(), StringComparison.Ordinal);
    }
}
