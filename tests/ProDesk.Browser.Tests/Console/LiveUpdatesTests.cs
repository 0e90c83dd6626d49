using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>The console's live connection through an outage (probe round 20, finding 1).</summary>
public sealed class LiveUpdatesTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task After_an_outage_of_minutes_the_console_says_live_updates_stopped_then_reconnects_and_shows_what_arrived()
    {
        var alex = await SignedInPageAsync("agent1@prodesk.test");

        // The hub's traffic goes through the test: while "down", every attempt to reach it fails, as in an outage.
        var down = false;
        IWebSocketRoute? socket = null;
        var attempts = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        await alex.RouteAsync(new Regex("/hubs/agent/negotiate"), async route =>
        {
            if (down)
            {
                attempts.Writer.TryWrite(true);
                await route.AbortAsync();
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        await alex.RouteWebSocketAsync(new Regex("/hubs/agent"), ws =>
        {
            socket = ws;
            ws.ConnectToServer();
        });
        // The page's clock is the test's, so minutes of retrying take no minutes.
        await alex.Clock.InstallAsync();
        await alex.ReloadAsync();
        await Expect(alex.Locator("[data-live-status]")).ToHaveTextAsync("live");
        await Expect(alex.GetByTestId("live-banner")).ToBeHiddenAsync();

        down = true;
        await socket!.CloseAsync();
        await Expect(alex.GetByTestId("live-banner")).ToBeVisibleAsync();
        await Expect(alex.GetByTestId("live-banner")).ToContainTextAsync("Live updates stopped");
        var subject = $"Outage {Guid.NewGuid():N}"[..20];
        await CreateConversationAsync("acme", subject);

        // Five minutes of failed attempts, each at most 30 s after the last: SignalR's default gave up after four.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            await alex.Clock.RunForAsync(30_000);
            await attempts.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        }

        await Expect(alex.GetByTestId("live-banner")).ToBeVisibleAsync();

        down = false;
        await alex.Clock.RunForAsync(30_000);
        await Expect(alex.Locator("[data-live-status]")).ToHaveTextAsync("live");
        await Expect(alex.GetByTestId("live-banner")).ToBeHiddenAsync();
        // The queue was read again on reconnecting: the item that arrived meanwhile is there.
        await Expect(alex.GetByTestId("queue").GetByText(subject)).ToBeVisibleAsync();
    }
}
