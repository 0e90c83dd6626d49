using System.Globalization;
using AngleSharp.Html.Parser;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>
/// The console writes every moment as UTC for the browser to show in the agent's own time zone (js/local-time.js): a
/// machine-readable datetime in UTC and a text that says UTC until the script runs, never a bare time read as local.
/// </summary>
public sealed class ConsoleTimesTests(SlaApp app) : SlaTest(app)
{
    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Text(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    [Fact]
    public async Task The_item_page_and_search_mark_up_messages_sla_due_times_and_activity_as_utc_moments()
    {
        var created = App.Clock.GetUtcNow();
        var id = await (await App.IntegrationClientAsync("sla-lab")).CreateConversationAsync("sla-lab", "times-1", "Clock on the wall");
        var agent = await App.SignedInAsync("agent3@prodesk.test");   // serves sla-lab

        var page = new HtmlParser().ParseDocument(await agent.GetStringAsync($"/agent/items/sla-lab/{id}"));
        var message = page.QuerySelector("[data-testid=thread] time")!;
        Assert.Equal((Iso(created), Text(created)), (message.GetAttribute("datetime"), message.TextContent));
        Assert.True(message.HasAttribute("data-local-time"));
        // sla-lab: a 1-minute first response.
        var due = page.QuerySelector("[data-testid=sla-firstResponse]")!;
        Assert.Equal($"due {Text(created.AddMinutes(1))}", due.TextContent);
        Assert.Equal(Iso(created.AddMinutes(1)), due.QuerySelector("time[data-local-time]")!.GetAttribute("datetime"));

        var search = new HtmlParser().ParseDocument(await agent.GetStringAsync("/agent/search?q=Clock+on+the+wall"));
        var activity = search.QuerySelector("[data-testid=search-results] time[data-local-time]")!;
        Assert.Equal((Iso(created), Text(created)), (activity.GetAttribute("datetime"), activity.TextContent));
    }
}
