using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>The item page and the console as agents and supervisors use them (probe round 19, findings 1-8, 12, 13).</summary>
public sealed class ItemPageTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private static ILocator Button(IPage page, string name) => page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = name, Exact = true });

    /// <summary>A call to the API as the page's signed-in user (its cookie), answering the HTTP status.</summary>
    private static Task<int> ApiAsync(IPage page, string method, string path, object body) =>
        page.EvaluateAsync<int>(
            "async ([method, path, body]) => (await fetch(path, { method, headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' }, body: JSON.stringify(body) })).status",
            new object[] { method, path, body });

    [Fact]
    public async Task A_closed_item_shows_no_reply_tag_upload_or_status_form()
    {
        var id = await CreateConversationAsync("acme", $"Closing {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        Assert.Equal(200, await ApiAsync(alex, "POST", $"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Solved" }));
        Assert.Equal(200, await ApiAsync(alex, "POST", $"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Closed" }));

        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Expect(alex.GetByTestId("closed-notice")).ToBeVisibleAsync();
        await Expect(alex.GetByLabel("Reply")).ToBeHiddenAsync();
        await Expect(alex.GetByLabel("Tags")).ToBeHiddenAsync();
        await Expect(alex.Locator("form[data-attach]")).ToBeHiddenAsync();
        await Expect(alex.Locator("form[data-status]")).ToBeHiddenAsync();
        await Expect(Button(alex, "Assign to me")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_agent_moves_an_item_to_another_queue_and_priority_from_its_page()
    {
        var id = await CreateConversationAsync("acme", $"Invoice {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Expect(alex.GetByTestId("item-queue")).ToHaveTextAsync("Service client");

        await alex.GetByTestId("move-queue").SelectOptionAsync("billing");
        await alex.GetByTestId("move-priority").SelectOptionAsync("Urgent");
        await Button(alex, "Move").ClickAsync();

        // The page reloads on its own change, showing where the item is now.
        await Expect(alex.GetByTestId("item-queue")).ToHaveTextAsync("Facturation");
        await Expect(alex.GetByTestId("move-priority")).ToHaveValueAsync("Urgent");
        await Expect(alex.GetByTestId("item-queue").Locator("..")).ToContainTextAsync("Urgent");
    }

    [Fact]
    public async Task The_reply_being_typed_survives_saving_tags_and_is_gone_once_sent()
    {
        var id = await CreateConversationAsync("acme", $"Draft {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await alex.GetByLabel("Reply").FillAsync("Dear customer, the part ships Monday.");
        await alex.GetByLabel("Tags").FillAsync("shipping");
        await Button(alex, "Save tags").ClickAsync();

        await Expect(alex.GetByTestId("tags")).ToContainTextAsync("shipping");
        await Expect(alex.GetByLabel("Reply")).ToHaveValueAsync("Dear customer, the part ships Monday.");

        await alex.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Send reply" }).ClickAsync();
        await Expect(alex.GetByTestId("thread")).ToContainTextAsync("the part ships Monday.");
        await Expect(alex.GetByLabel("Reply")).ToHaveValueAsync("");
    }

    [Fact]
    public async Task A_colleagues_change_shows_a_bar_and_the_status_in_the_header_and_a_status_or_tags_on_the_old_version_are_refused_as_changed_meanwhile()
    {
        var id = await CreateConversationAsync("acme", $"Refused {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Expect(alex.Locator("[data-item][data-live='true']")).ToHaveCountAsync(1);
        await Expect(alex.GetByTestId("item-status")).ToHaveTextAsync("Open");
        var bea = await SignedInPageAsync("agent2@prodesk.test");

        Assert.Equal(200, await ApiAsync(bea, "POST", $"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Solved" }));

        await Expect(alex.GetByTestId("changed-bar")).ToBeVisibleAsync();
        await Expect(alex.GetByTestId("changed-bar")).ToContainTextAsync("agent2@prodesk.test changed this item.");
        // The header follows the item without a reload.
        await Expect(alex.GetByTestId("item-status")).ToHaveTextAsync("Solved");

        // Status and tags send the version the page loaded, as a reply does: a change on what Alex no longer sees is refused.
        await alex.Locator("form[data-status] select").SelectOptionAsync("Pending");
        await Button(alex, "Change").ClickAsync();
        await Expect(alex.GetByTestId("reply-error")).ToContainTextAsync("This item changed since you opened it (now Solved, version");
        await Expect(Button(alex, "Send anyway")).ToBeHiddenAsync();
        await alex.GetByLabel("Tags").FillAsync("refund");
        await Button(alex, "Save tags").ClickAsync();
        await Expect(alex.GetByTestId("reply-error")).ToContainTextAsync("This item changed since you opened it (now Solved, version");
        var item = await alex.EvaluateAsync<string>(
            "async path => JSON.stringify((await (await fetch(path, { headers: { 'Accept': 'application/json' } })).json()).item)", $"/api/v1/tenants/acme/work-items/{id}");
        Assert.Contains("\"status\":\"Solved\"", item, StringComparison.Ordinal);
        Assert.DoesNotContain("refund", item, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_thread_opens_at_its_newest_message_with_the_reply_box_in_view()
    {
        var id = await CreateConversationAsync("acme", $"Long thread {Guid.NewGuid():N}"[..24]);
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal(200, await ApiAsync(bea, "POST", $"/api/v1/tenants/acme/work-items/{id}/notes", new { body = $"Note {i} of 20" }));
        }

        var alex = await SignedInPageAsync("agent1@prodesk.test", options: new() { ViewportSize = new() { Width = 1366, Height = 768 } });
        await alex.GotoAsync($"/agent/items/acme/{id}");

        var messages = alex.GetByTestId("thread").Locator("li.message");
        await Expect(messages.Last).ToContainTextAsync("Note 20 of 20");
        await Expect(messages.Last).ToBeInViewportAsync();
        await Expect(alex.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true })).ToBeInViewportAsync();
        await Expect(messages.First).Not.ToBeInViewportAsync();
    }

    [Fact]
    public async Task On_a_colleagues_item_an_agent_sees_who_has_it_and_a_supervisor_takes_it_over_after_confirming_and_the_owner_can_unassign()
    {
        var id = await CreateConversationAsync("acme", $"Take over {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Button(alex, "Assign to me").ClickAsync();
        await Expect(alex.GetByTestId("assignee")).ToHaveTextAsync("assigned to Alex Martin");
        await Expect(Button(alex, "Unassign")).ToBeVisibleAsync();

        // A colleague is not offered what the server would refuse them.
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        await bea.GotoAsync($"/agent/items/acme/{id}");
        await Expect(bea.GetByTestId("assignee-note")).ToHaveTextAsync("Alex Martin works this item; a supervisor can hand it over.");
        await Expect(Button(bea, "Assign to me")).ToHaveCountAsync(0);

        var sam = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        await sam.GotoAsync($"/agent/items/acme/{id}");
        await Button(sam, "Take over").ClickAsync();
        await Expect(sam.GetByTestId("take-over-confirm")).ToContainTextAsync("Alex Martin works this item. Take it over?");
        await Button(sam, "Cancel").ClickAsync();
        await Expect(sam.GetByTestId("take-over-confirm")).ToBeHiddenAsync();
        await Expect(sam.GetByTestId("assignee")).ToHaveTextAsync("assigned to Alex Martin");

        await Button(sam, "Take over").ClickAsync();
        await Button(sam, "Yes, take it over").ClickAsync();
        await Expect(sam.GetByTestId("assignee")).ToHaveTextAsync("assigned to Sam Supervisor");
        await Expect(Button(sam, "Unassign")).ToBeVisibleAsync();
        // The trail records it as any assignment: from Alex to Sam, by Sam.
        var trail = await sam.EvaluateAsync<string>(
            "async path => JSON.stringify((await (await fetch(path, { headers: { 'Accept': 'application/json' } })).json()).changes.filter(c => c.field === 'assignee').pop())",
            $"/api/v1/tenants/acme/work-items/{id}");
        Assert.Contains("\"from\":\"Alex Martin\"", trail, StringComparison.Ordinal);
        Assert.Contains("\"to\":\"Sam Supervisor\"", trail, StringComparison.Ordinal);
        Assert.Contains("\"actor\":\"supervisor@prodesk.test\"", trail, StringComparison.Ordinal);

        await Button(sam, "Unassign").ClickAsync();
        await Expect(sam.GetByTestId("assignee")).ToHaveTextAsync("unassigned");
        await Expect(Button(sam, "Assign to me")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_agent_takes_an_item_and_a_supervisor_hands_it_to_a_colleague()
    {
        var id = await CreateConversationAsync("acme", $"Handover {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Expect(alex.GetByTestId("assignee")).ToHaveTextAsync("unassigned");
        // Agents take or release; handing over is the supervisor's.
        await Expect(alex.GetByTestId("assignee-picker")).ToHaveCountAsync(0);
        await Button(alex, "Assign to me").ClickAsync();
        await Expect(alex.GetByTestId("assignee")).ToHaveTextAsync("assigned to Alex Martin");
        await Expect(Button(alex, "Assign to me")).ToHaveCountAsync(0);

        var supervisor = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        await supervisor.GotoAsync($"/agent/items/acme/{id}");
        await supervisor.GetByTestId("assignee-picker").SelectOptionAsync(new SelectOptionValue { Label = "Bea Dubois" });
        await Button(supervisor, "Assign").ClickAsync();
        await Expect(supervisor.GetByTestId("assignee")).ToHaveTextAsync("assigned to Bea Dubois");
        // Merlion's agent does not serve acme: not offered.
        await Expect(supervisor.GetByTestId("assignee-picker").Locator("option", new LocatorLocatorOptions { HasText = "Chen Wei" })).ToHaveCountAsync(0);
        await Expect(alex.GetByTestId("changed-bar")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_second_agent_on_an_item_is_told_who_is_already_viewing_it()
    {
        var id = await CreateConversationAsync("northwind", $"Collision {Guid.NewGuid():N}"[..20]);
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        await bea.GotoAsync($"/agent/items/northwind/{id}");
        await Expect(bea.Locator("[data-item][data-live='true']")).ToHaveCountAsync(1);

        var dana = await SignedInPageAsync("agent4@prodesk.test");
        await dana.GotoAsync($"/agent/items/northwind/{id}");
        await Expect(dana.GetByTestId("presence")).ToContainTextAsync("Bea Dubois is viewing");
    }

    [Fact]
    public async Task Away_stays_away_across_reloads_of_the_console()
    {
        var supervisor = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        var chen = await SignedInPageAsync("agent3@prodesk.test");   // Chen Wei
        var row = supervisor.GetByTestId("agents").Locator("tr", new LocatorLocatorOptions { HasText = "Chen Wei" });
        await chen.GetByLabel("Status").SelectOptionAsync("Away");
        await Expect(row).ToContainTextAsync("Away");

        await chen.ReloadAsync();
        await Expect(chen.Locator("[data-live-status]")).ToHaveTextAsync("live");
        await Expect(chen.GetByLabel("Status")).ToHaveValueAsync("Away");
        await chen.ReloadAsync();
        await Expect(chen.Locator("[data-live-status]")).ToHaveTextAsync("live");
        await Expect(chen.GetByLabel("Status")).ToHaveValueAsync("Away");
        await Expect(row).ToContainTextAsync("Away");

        await chen.GetByLabel("Status").SelectOptionAsync("Online");
        await Expect(row).ToContainTextAsync("Online");
    }

    [Fact]
    public async Task Next_item_when_signed_out_says_so_with_a_sign_in_link()
    {
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.Context.ClearCookiesAsync();

        await alex.Keyboard.PressAsync("n");

        await Expect(alex.GetByTestId("next-problem")).ToContainTextAsync("You are signed out.");
        await Expect(alex.GetByTestId("next-problem").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Sign in again" }))
            .ToHaveAttributeAsync("href", new Regex("^/login\\?ReturnUrl="));
        await Expect(alex.GetByTestId("next-problem")).Not.ToContainTextAsync("Nothing waiting");
    }

    [Fact]
    public async Task A_double_click_on_add_as_internal_note_adds_one_note()
    {
        var id = await CreateConversationAsync("acme", $"Note twice {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        var text = $"Called back {Guid.NewGuid():N}";
        await alex.GetByLabel("Reply").FillAsync(text);

        await Button(alex, "Add as internal note").DblClickAsync();

        await Expect(alex.GetByTestId("thread")).ToContainTextAsync(text);
        var notes = await alex.EvaluateAsync<int>(
            "async ([path, text]) => (await (await fetch(path, { headers: { 'Accept': 'application/json' } })).json()).messages.filter(m => m.body === text).length",
            new object[] { $"/api/v1/tenants/acme/work-items/{id}", text });
        Assert.Equal(1, notes);
    }
}
