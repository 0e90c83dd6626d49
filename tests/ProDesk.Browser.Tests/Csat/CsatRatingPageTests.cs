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
        using var outbox = new OutboxWatch(Path.Combine(Fixture.DataDirectory, "mail-outbox"));
        await agent.Locator("form[data-status] select").SelectOptionAsync("Solved");
        await agent.Locator("form[data-status] button").ClickAsync();
        var links = await SurveyLinksAsync(outbox, itemId);
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
    private static async Task<Dictionary<int, string>> SurveyLinksAsync(OutboxWatch outbox, Guid itemId)
    {
        // The dispatcher sends after the solve commits; the app renames each mail into place once it is whole.
        var text = await outbox.TextOfFirstAsync(text => text.Contains($"Reference: {itemId}", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return RatingLink().Matches(text).ToDictionary(m => int.Parse(m.Groups["score"].Value, System.Globalization.CultureInfo.InvariantCulture), m => new Uri(m.Value).PathAndQuery);
    }

    /// <summary>
    /// The .eml files appearing in the app's pickup folder, seen from before the action that sends them: events, not
    /// polling. Files already there count too (read once the watcher runs, so none falls between the two).
    /// </summary>
    private sealed class OutboxWatch : IDisposable
    {
        private readonly System.Threading.Channels.Channel<string> _files = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly FileSystemWatcher _watcher;
        private readonly string _folder;

        public OutboxWatch(string folder)
        {
            _folder = folder;
            Directory.CreateDirectory(folder);
            _watcher = new FileSystemWatcher(folder);
            _watcher.Created += (_, e) => _files.Writer.TryWrite(e.FullPath);
            _watcher.Renamed += (_, e) => _files.Writer.TryWrite(e.FullPath);
            _watcher.EnableRaisingEvents = true;
        }

        /// <summary>The text body of the first mail whose text matches, within <paramref name="timeout"/>.</summary>
        public async Task<string> TextOfFirstAsync(Func<string, bool> matches, TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            foreach (var existing in Directory.GetFiles(_folder, "*.eml"))
            {
                _files.Writer.TryWrite(existing);
            }

            try
            {
                await foreach (var file in _files.Reader.ReadAllAsync(cancel.Token))
                {
                    if (file.EndsWith(".eml", StringComparison.Ordinal)
                        && (await MimeMessage.LoadAsync(file, cancel.Token)).TextBody is { } text && matches(text))
                    {
                        return text;
                    }
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
            }

            throw new Xunit.Sdk.XunitException($"no matching mail in {_folder} within {timeout}");
        }

        public void Dispose() => _watcher.Dispose();
    }

    [GeneratedRegex(@"https?://[^\s/]+/csat/[A-Za-z0-9_-]+/(?<score>[1-5])")]
    private static partial Regex RatingLink();
}
