using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Pages;

/// <summary>A client admin opening the portal sees the last 30 days drawn day by day, with a legend naming each line.</summary>
public sealed class PortalChartTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task The_portal_draws_each_days_compliance_and_items()
    {
        // Today has items, so the chart has something to draw whatever the demo history holds.
        await CreateConversationAsync("acme", "Chart sample");
        await GotoAsync("/login");
        await Page.GetByLabel("Email").FillAsync("admin@acme.test");
        await Page.GetByLabel("Password").FillAsync(DemoPassword);
        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in", Exact = true }).ClickAsync();
        await Page.WaitForURLAsync("**/portal");

        var chart = Page.GetByTestId("sla-chart");
        await Expect(chart).ToHaveAttributeAsync("data-ready", "true");
        await Expect(chart.Locator("canvas")).ToBeVisibleAsync();
        var box = await chart.Locator("canvas").BoundingBoxAsync();
        Assert.True(box is { Width: >= 300, Height: >= 200 }, $"canvas {box?.Width}x{box?.Height}");
        await Expect(chart.Locator(".u-legend")).ToContainTextAsync("First response");
        await Expect(chart.Locator(".u-legend")).ToContainTextAsync("Resolution");
        await Expect(chart.Locator(".u-legend")).ToContainTextAsync("Items");
    }
}
