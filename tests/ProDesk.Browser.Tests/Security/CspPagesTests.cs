using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Security;

/// <summary>
/// Every page works under its Content-Security-Policy in a real browser: its scripts run (the live
/// status turns "live" over /hubs/agent, vendor UIs render) and the browser reports no violation,
/// which would mean a script, style or connection of our own is blocked.
/// </summary>
public sealed class CspPagesTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Theory]
    [InlineData(null, "/", "ProDesk")]
    [InlineData(null, "/t/acme", "Acme Plomberie SAS support")]
    [InlineData(null, "/api/docs/", "Work items, newest first, cursor-paginated.")]
    [InlineData("agent1@prodesk.test", "/agent", "Agent console")]
    [InlineData("agent1@prodesk.test", "/account/security", "Security")]
    [InlineData("agent1@prodesk.test", "/account/tokens", "Personal access tokens")]
    [InlineData("supervisor@prodesk.test", "/supervisor", "Supervisor wallboard")]
    [InlineData("admin@prodesk.test", "/admin", "Provider admin")]
    [InlineData("admin@prodesk.test", "/admin/sla/acme", "SLA policies and business calendars")]
    [InlineData("admin@prodesk.test", "/hangfire/recurring", "token-pruning")]
    [InlineData("admin@acme.test", "/portal", "Client portal")]
    public async Task A_page_runs_under_its_policy_without_a_violation(string? email, string path, string shown)
    {
        var violations = new List<string>();
        Page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add($"{message.Location}: {message.Text}");
                }
            }
        };
        Page.PageError += (_, error) =>
        {
            lock (violations)
            {
                violations.Add($"page error: {error}");
            }
        };

        if (email is not null)
        {
            await GotoAsync("/login");
            await Page.GetByLabel("Email").FillAsync(email);
            await Page.GetByLabel("Password").FillAsync(DemoPassword);
            await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in", Exact = true }).ClickAsync();
            await Expect(Page.GetByTestId("signed-in-as")).ToBeVisibleAsync();
        }

        await GotoAsync(path);

        await Expect(Page.GetByText(shown, new PageGetByTextOptions { Exact = false }).First).ToBeVisibleAsync();
        if (await Page.Locator("[data-live-status]").CountAsync() > 0)
        {
            // The page's module ran and its WebSocket to /hubs/agent was allowed (connect-src 'self').
            await Expect(Page.Locator("[data-live-status]")).ToHaveTextAsync("live");
        }

        lock (violations)
        {
            Assert.True(violations.Count == 0, string.Join("\n", violations));
        }
    }

    [Fact]
    public async Task An_agent_works_an_item_under_the_policy()
    {
        var violations = new List<string>();
        var id = await CreateConversationAsync("acme", $"Policy walk {Guid.NewGuid():N}"[..24]);
        var agent = await SignedInPageAsync("agent1@prodesk.test");
        agent.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add($"{message.Location}: {message.Text}");
                }
            }
        };

        await agent.GotoAsync($"/agent/items/acme/{id}");
        await agent.GetByLabel("Reply").FillAsync("On it.");
        await agent.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Add as internal note" }).ClickAsync();
        await Expect(agent.GetByTestId("thread")).ToContainTextAsync("On it.");
        // The page reloads on its own change (an emptied reply box says it has): tags saved on the page as it was before
        // would name the version the note replaced, and be refused as changed meanwhile.
        await Expect(agent.GetByLabel("Reply")).ToHaveValueAsync("");
        // ... and its script has wired the forms: a click before that submits the tags form as a plain GET.
        await Expect(agent.Locator("article[data-item]")).ToHaveAttributeAsync("data-ready", "true");
        await agent.GetByLabel("Tags").FillAsync("boiler, urgent");
        await agent.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Save tags" }).ClickAsync();
        await Expect(agent.GetByTestId("tags")).ToContainTextAsync("urgent");

        lock (violations)
        {
            Assert.True(violations.Count == 0, string.Join("\n", violations));
        }
    }
}
