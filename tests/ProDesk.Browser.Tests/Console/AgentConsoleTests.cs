using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>Two agents in two browsers: live queue, who is viewing, and the stale-reply guard.</summary>
public sealed class AgentConsoleTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task A_new_item_appears_in_both_agents_consoles_without_a_reload()
    {
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        var subject = $"Boiler broken {Guid.NewGuid():N}"[..24];

        await CreateConversationAsync("acme", subject);

        await Expect(alex.GetByTestId("queue").GetByText(subject)).ToBeVisibleAsync();
        await Expect(bea.GetByTestId("queue").GetByText(subject)).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_agent_opening_an_item_shows_as_viewing_and_a_stale_reply_is_refused()
    {
        var subject = $"Invoice query {Guid.NewGuid():N}"[..24];
        var id = await CreateConversationAsync("northwind", subject);
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        await bea.GotoAsync($"/agent/items/northwind/{id}");
        await Expect(bea.Locator("h1")).ToHaveTextAsync(subject);

        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/northwind/{id}");
        await Expect(bea.GetByTestId("presence")).ToContainTextAsync("Alex Martin is viewing");

        // Alex changes the item; Bea's page still holds the version she loaded.
        await alex.GetByLabel("Reply").FillAsync("Checking with accounting.");
        await alex.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Add as internal note" }).ClickAsync();
        await Expect(alex.GetByTestId("thread")).ToContainTextAsync("Checking with accounting.");

        await bea.GetByLabel("Reply").FillAsync("We refunded you.");
        await bea.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Send reply" }).ClickAsync();
        await Expect(bea.GetByTestId("reply-error")).ToContainTextAsync("This item changed since you opened it");
        await Expect(bea.GetByTestId("thread")).Not.ToContainTextAsync("We refunded you.");

        // Alex goes back to the queue: Bea no longer sees him on the item.
        await alex.GotoAsync("/agent");
        await Expect(bea.GetByTestId("presence")).Not.ToContainTextAsync("Alex Martin");
    }

    [Fact]
    public async Task A_long_subject_is_cut_to_one_line_and_leaves_the_other_columns_readable()
    {
        var subject = $"{Guid.NewGuid():N} " + string.Join(" ", Enumerable.Repeat("the boiler in the basement knocks every night", 5));
        var id = await CreateConversationAsync("acme", subject);
        var alex = await SignedInPageAsync("agent1@prodesk.test", options: new() { ViewportSize = new() { Width = 1366, Height = 768 } });
        var row = alex.Locator($"tr[data-item-id='{id}']");
        var cell = row.GetByTestId("queue-subject");
        await Expect(cell.Locator("a")).ToHaveAttributeAsync("title", subject);

        // One line, cut: the cell holds more text than it shows, and is no taller than one line of text and its padding.
        Assert.True(await cell.EvaluateAsync<bool>("td => td.scrollWidth > td.clientWidth"));
        var lineHeight = await cell.EvaluateAsync<double>("td => parseFloat(getComputedStyle(td).lineHeight)");
        Assert.True((await cell.BoundingBoxAsync())!.Height < 2 * lineHeight, "the subject wraps");
        // The columns beside it keep their width: the status word and the assignee are read whole, on one line.
        foreach (var (column, text) in new[] { (3, "Open"), (5, "unassigned") })
        {
            var other = row.Locator("td").Nth(column);
            await Expect(other).ToHaveTextAsync(text);
            Assert.True((await other.BoundingBoxAsync())!.Width >= 80, $"column {column} is squeezed");
            Assert.True((await other.BoundingBoxAsync())!.Height < 2 * lineHeight, $"column {column} wraps");
        }
    }

    [Fact]
    public async Task Enter_opens_the_item_the_agent_selected_even_after_the_queue_moved_under_it()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var above = await CreateConversationAsync("northwind", $"Above {tag}");
        var chosen = await CreateConversationAsync("northwind", $"Chosen {tag}");
        var dana = await SignedInPageAsync("agent4@prodesk.test");   // northwind, merlion
        var chosenRow = dana.Locator($"tr[data-item-id='{chosen}']");
        await Expect(chosenRow).ToBeVisibleAsync();
        var index = await dana.EvaluateAsync<int>("id => [...document.querySelectorAll('tr[data-item-id]')].findIndex(r => r.dataset.itemId === id)", chosen.ToString());
        for (var i = 0; i <= index; i++)
        {
            await dana.Keyboard.PressAsync("j");
        }

        await Expect(chosenRow).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("selected"));

        // A colleague solves the item above it: Dana's queue refreshes live and the rows below move up one.
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/northwind/{above}");
        await alex.Locator("form[data-status] select").SelectOptionAsync("Solved");
        await alex.Locator("form[data-status] button").ClickAsync();
        await Expect(dana.Locator($"tr[data-item-id='{above}']")).ToHaveCountAsync(0);

        await Expect(chosenRow).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("selected"));
        await dana.Keyboard.PressAsync("Enter");
        // Asserted by polling the address, not by waiting for a navigation event: on a loaded machine the page had
        // navigated before the wait began listening, and the wait timed out on a page already open (clean-clone CI).
        await Expect(dana).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/agent/items/northwind/{chosen}$"));
        await Expect(dana.Locator("h1")).ToHaveTextAsync($"Chosen {tag}");
    }

    [Fact]
    public async Task The_next_item_key_opens_the_item_it_claimed()
    {
        // Not in sla-lab: an item left unanswered there breaches, and the SLA test counts its breaches.
        await CreateConversationAsync("merlion", $"Next please {Guid.NewGuid():N}"[..24]);
        var chen = await SignedInPageAsync("agent3@prodesk.test");   // merlion, sla-lab

        await chen.Keyboard.PressAsync("n");

        // Whichever item was most urgent, in whichever of Chen's tenants: its own page, assigned to Chen.
        await Expect(chen).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/agent/items/(merlion|sla-lab)/[0-9a-f-]{36}$"));
        await Expect(chen.Locator("h1")).Not.ToBeEmptyAsync();
        await Expect(chen.GetByTestId("assignee")).ToContainTextAsync("Chen Wei");
    }

    [Fact]
    public async Task The_wallboard_shows_queue_depth_and_agents_live()
    {
        var supervisor = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        var merlionSupport = supervisor.Locator("[data-queue='merlion/support'] [data-testid='open']");
        var before = int.Parse(await merlionSupport.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);

        await CreateConversationAsync("merlion", "Container delayed");
        await Expect(merlionSupport).ToHaveTextAsync((before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        await SignedInPageAsync("agent3@prodesk.test");
        await Expect(supervisor.GetByTestId("agents")).ToContainTextAsync("Chen Wei");
    }
}
