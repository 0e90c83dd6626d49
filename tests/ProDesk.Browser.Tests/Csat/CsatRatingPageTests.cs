using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MimeKit;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Csat;

/// <summary>
/// The satisfaction survey's links in a real browser that runs scripts, as mail security gateways (Defender Safe
/// Links, Proofpoint, Mimecast) open every link of a mail: opening records nothing; the customer's Send does.
/// </summary>
public sealed partial class CsatRatingPageTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Opening_all_five_links_in_a_browser_records_nothing_and_the_customers_send_records_their_choice()
    {
        var itemId = await CreateConversationAsync("acme", $"Rate me {Guid.NewGuid():N}"[..20]);
        var agent = await SignedInPageAsync("agent2@prodesk.test");   // acme, northwind
        await agent.GotoAsync($"/agent/items/acme/{itemId}");
        await agent.Locator("form[data-status] select").SelectOptionAsync("Solved");
        await agent.Locator("form[data-status] button").ClickAsync();
        var links = await SurveyLinksAsync(itemId);
        using var api = await IntegrationClientAsync("acme");

        // The scanner: every link, in the mail's order (5 to 1), each page loaded and its scripts left to run.
        foreach (var score in new[] { 5, 4, 3, 2, 1 })
        {
            var response = await GotoAsync(links[score]);
            Assert.Equal(200, response.Status);
            await Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Expect(Page.GetByTestId("csat-not-sent")).ToContainTextAsync("Your rating is not sent yet.");
            await Expect(Page.GetByRole(AriaRole.Radio, new PageGetByRoleOptions { Name = $"{score} –" })).ToBeCheckedAsync();
        }

        Assert.Equal(JsonValueKind.Null, (await CsatOfAsync(api, itemId)).ValueKind);

        // The customer, on the page the last link opened: chooses another score, writes a comment, presses Send.
        await Page.GetByRole(AriaRole.Radio, new PageGetByRoleOptions { Name = "4 – Satisfied" }).CheckAsync();
        await Page.GetByLabel("Anything you would like to add? (optional)").FillAsync("Quick and kind.");
        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Send my rating" }).ClickAsync();

        await Expect(Page.GetByTestId("csat-score")).ToHaveTextAsync("4");
        var csat = await CsatOfAsync(api, itemId);
        Assert.Equal((4, "Quick and kind."), (csat.GetProperty("score").GetInt32(), csat.GetProperty("comment").GetString()));

        // The agent sees it on the item.
        await agent.ReloadAsync();
        await Expect(agent.GetByTestId("csat-score")).ToHaveTextAsync("4");
        await Expect(agent.GetByTestId("csat-comment")).ToHaveTextAsync("Quick and kind.");
    }

    private static async Task<JsonElement> CsatOfAsync(HttpClient api, Guid itemId)
    {
        var item = await api.GetStringAsync($"api/v1/tenants/acme/work-items/{itemId}");
        return JsonDocument.Parse(item).RootElement.GetProperty("csat").Clone();
    }

    /// <summary>The survey mail the app wrote to its pickup folder for the item, and its five links by score (paths).</summary>
    private async Task<Dictionary<int, string>> SurveyLinksAsync(Guid itemId)
    {
        var outbox = Path.Combine(Fixture.DataDirectory, "mail-outbox");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            // The dispatcher sends after the solve commits: the mail appears shortly, so the folder is polled.
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
            {
                MimeMessage mail;
                try
                {
                    mail = await MimeMessage.LoadAsync(file);
                }
                catch (IOException)
                {
                    continue;   // still being written
                }

                if (mail.TextBody is { } text && text.Contains($"Reference: {itemId}", StringComparison.Ordinal))
                {
                    return RatingLink().Matches(text).ToDictionary(m => int.Parse(m.Groups["score"].Value, System.Globalization.CultureInfo.InvariantCulture), m => new Uri(m.Value).PathAndQuery);
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no survey mail for {itemId} in {outbox}");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"https?://[^\s/]+/csat/[A-Za-z0-9_-]+/(?<score>[1-5])")]
    private static partial Regex RatingLink();
}
