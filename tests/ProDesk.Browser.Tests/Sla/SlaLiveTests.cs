using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Sla;

/// <summary>
/// The live check on real time: sla-lab's fast lane has a 1-minute first-response target. An item nobody
/// answers shows its due time at once, then turns breached in the open console, with no reload, when the
/// sweeper (inside the app's Hangfire server) fires; the policy's escalations raise its priority and
/// alert the supervisor's wallboard.
/// </summary>
public sealed class SlaLiveTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task An_unanswered_sla_lab_item_turns_breached_in_the_console_and_alerts_the_wallboard_within_the_minute()
    {
        var page = await SignedInPageAsync("agent3@prodesk.test", "/agent");
        var board = await SignedInPageAsync("supervisor@prodesk.test", "/supervisor");

        var subject = $"Lab clock {Guid.NewGuid():N}"[..20];
        await CreateConversationAsync("sla-lab", subject);

        var row = page.GetByTestId("queue").Locator("tr", new LocatorLocatorOptions { HasText = subject });
        await Expect(row.Locator("time[data-due]")).ToHaveTextAsync("in 1 min");

        // Waits on what the agent sees, not on a timer: the breach event redraws the row.
        await Expect(row.GetByTestId("breached")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 90_000 });
        await Expect(row).ToContainTextAsync("High");

        // sla-lab's policy escalates to supervisors: the wallboard raised alerts and counts the breach.
        await Expect(board.GetByTestId("sla-alerts")).ToContainTextAsync($"SLA breached: sla-lab, firstResponse: {subject}");
        await Expect(board.GetByTestId("sla-alerts")).ToContainTextAsync("SLA 75% used: sla-lab, firstResponse");
        await Expect(board.Locator("[data-queue='sla-lab/fast'] [data-testid=breached]")).ToHaveTextAsync("1");
    }
}
