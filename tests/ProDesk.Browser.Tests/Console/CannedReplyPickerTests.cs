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
        await alex.GetByLabel("Insert a canned answer").SelectOptionAsync(new SelectOptionValue { Label = title });

        await Expect(alex.GetByLabel("Reply", new PageGetByLabelOptions { Exact = true }))
            .ToHaveValueAsync($"Hi! Hello A customer, <b>Alex Martin</b> here about {subject}. Write to client@example.fr.");
    }
}
