using System.Globalization;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Console;

/// <summary>An agent in Singapore reads the console's times in Singapore time, not in UTC, also for what arrives live.</summary>
public sealed class LocalTimesTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private static readonly BrowserNewContextOptions Singapore = new() { TimezoneId = "Asia/Singapore", Locale = "en-GB" };

    /// <summary>Singapore keeps UTC+8 all year (no daylight saving time), so the expected local time needs no zone database.</summary>
    private static async Task ExpectSingaporeTimeAsync(ILocator time)
    {
        await Expect(time).Not.ToContainTextAsync("UTC");
        var utc = DateTimeOffset.Parse((await time.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
        var local = utc.ToOffset(TimeSpan.FromHours(8));
        await Expect(time).ToContainTextAsync(local.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture));
        await Expect(time).ToContainTextAsync(local.ToString("HH:mm", CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Messages_sla_due_times_and_search_show_the_agents_local_time_also_for_a_note_that_arrives_live()
    {
        var subject = $"Local time {Guid.NewGuid():N}"[..24];
        var id = await CreateConversationAsync("acme", subject);
        var alex = await SignedInPageAsync("agent1@prodesk.test", options: Singapore);
        await alex.GotoAsync($"/agent/items/acme/{id}");
        await Expect(alex.Locator("[data-item][data-live='true']")).ToHaveCountAsync(1);

        await ExpectSingaporeTimeAsync(alex.GetByTestId("thread").Locator("time").First);
        await ExpectSingaporeTimeAsync(alex.GetByTestId("details").Locator("time").First);

        // A colleague's note is added to the open page by the live refresh: its time is local too.
        var bea = await SignedInPageAsync("agent2@prodesk.test");
        var note = $"Called the customer {Guid.NewGuid():N}";
        var added = await bea.EvaluateAsync<int>(
            "async ([path, body]) => (await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' }, body: JSON.stringify({ body }) })).status",
            new object[] { $"/api/v1/tenants/acme/work-items/{id}/notes", note });
        Assert.Equal(200, added);
        await ExpectSingaporeTimeAsync(alex.GetByTestId("thread").Locator("li", new LocatorLocatorOptions { HasText = note }).Locator("time"));

        await alex.GotoAsync($"/agent/search?q={Uri.EscapeDataString(subject)}");
        await ExpectSingaporeTimeAsync(alex.GetByTestId("search-results").Locator("time"));
    }
}
