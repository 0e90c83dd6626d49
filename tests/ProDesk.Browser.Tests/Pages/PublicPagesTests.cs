using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProDesk.Browser.Tests.Pages;

/// <summary>The pages anyone can open: the product's landing page and a client's support page.</summary>
public sealed class PublicPagesTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Home_page_shows_the_product_name()
    {
        var response = await GotoAsync("/");

        Assert.Equal(200, response.Status);
        Assert.Equal("ProDesk", (await Page.GetByTestId("product-name").InnerTextAsync()).Trim());
    }

    [Theory]
    [InlineData("acme", "Acme Plomberie SAS")]
    [InlineData("northwind", "Northwind Outfitters Inc.")]
    public async Task Tenant_page_is_resolved_from_the_route(string slug, string tenantName)
    {
        var response = await GotoAsync($"/t/{slug}");

        Assert.Equal(200, response.Status);
        // Exactly one level-1 heading (a second would fail the locator's strictness).
        var heading = Page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 });
        Assert.Equal($"{tenantName} support", (await heading.InnerTextAsync()).Trim());
        Assert.Contains(tenantName, await Page.TitleAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_tenant_slug_answers_404()
    {
        var response = await GotoAsync("/t/does-not-exist");

        Assert.Equal(404, response.Status);
        Assert.DoesNotContain("support", await Page.TitleAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
