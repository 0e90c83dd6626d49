using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>An agent inserts a supervisor's canned reply into the reply box, filled in for the item.</summary>
public sealed class CannedReplyPickerTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task A_canned_reply_goes_into_the_reply_box_filled_in_as_text()
    {
        var title = $"Greeting {Guid.NewGuid():N}"[..20];
        var supervisor = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        var created = await supervisor.APIRequest.PostAsync("/api/v1/tenants/acme/canned-replies", new APIRequestContextOptions
        {
            DataObject = new { title, body = "Hello {{contact.name}}, <b>{{agent.name}}</b> here about {{item.subject}}. Write to {{contact.email}}." },
        });
        Assert.True(created.Ok, await created.TextAsync());
        var subject = $"Dripping tap {Guid.NewGuid():N}"[..24];
        var id = await CreateConversationAsync("acme", subject);

        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await alex.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true }).FillAsync("Hi! ");
        await alex.GetByLabel("Insert a canned answer").ClickAsync();
        await alex.GetByRole(AriaRole.Option, new PageGetByRoleOptions { Name = title }).ClickAsync();

        await Expect(alex.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true }))
            .ToHaveValueAsync($"Hi! Hello A customer, <b>Alex Martin</b> here about {subject}. Write to client@example.fr.");
    }

    [Fact]
    public async Task Arrow_keys_move_through_the_list_enter_inserts_and_escape_closes_without_inserting()
    {
        var words = Guid.NewGuid().ToString("N")[..8];
        var supervisor = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");
        foreach (var (title, body) in new[] { ($"{words} first", "First answer."), ($"{words} second", "Second answer.") })
        {
            var created = await supervisor.APIRequest.PostAsync("/api/v1/tenants/acme/canned-replies", new APIRequestContextOptions { DataObject = new { title, body } });
            Assert.True(created.Ok, await created.TextAsync());
        }

        var id = await CreateConversationAsync("acme", $"Keys {Guid.NewGuid():N}"[..20]);
        var alex = await SignedInPageAsync("agent1@prodesk.test");
        await alex.GotoAsync($"/agent/items/acme/{id}");
        var reply = alex.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true });
        var picker = alex.GetByLabel("Insert a canned answer");
        var selected = alex.Locator("[role=option][aria-selected=true]");
        await Expect(alex.Locator("[data-canned]")).ToBeVisibleAsync();

        // Typing narrows the list to the two; the first ↓ selects, it does not insert.
        await picker.FillAsync(words);
        await picker.PressAsync("ArrowDown");
        await Expect(selected).ToHaveCountAsync(1);
        var first = await selected.TextContentAsync();
        await picker.PressAsync("ArrowDown");
        await Expect(selected).Not.ToHaveTextAsync(first!);
        await Expect(reply).ToHaveValueAsync("");

        // Escape closes the list and inserts nothing.
        await picker.PressAsync("Escape");
        await Expect(alex.Locator("[data-canned-list]")).ToBeHiddenAsync();
        await Expect(reply).ToHaveValueAsync("");

        // Enter inserts the one selected, and does not send the reply.
        await picker.PressAsync("ArrowDown");
        var chosen = await selected.TextContentAsync();
        await picker.PressAsync("Enter");
        await Expect(reply).ToHaveValueAsync(chosen!.EndsWith("first", StringComparison.Ordinal) ? "First answer." : "Second answer.");
        await Expect(alex.GetByTestId("thread")).Not.ToContainTextAsync("answer.");
    }
}
