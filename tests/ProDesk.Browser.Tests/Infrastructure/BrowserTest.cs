using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ProDesk.Browser.Tests.Infrastructure;

/// <summary>
/// Base of every browser test: a fresh context and page per test, and the app's log lines from
/// the test's span attached to its output, so a failure shows what the server said.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class BrowserTest(BrowserFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private IBrowserContext? context;
    private IPage? page;
    private long logMark;

    protected BrowserFixture Fixture => fixture;

    protected IPage Page => page ?? throw new InvalidOperationException("The test is not initialised.");

    public async Task InitializeAsync()
    {
        logMark = fixture.App.OutputMark;
        context = await fixture.NewContextAsync();
        page = await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (context is not null)
        {
            await context.CloseAsync();
        }

        output.WriteLine("--- app output during this test ---");
        output.WriteLine(fixture.App.OutputSince(logMark));
    }

    /// <summary>Navigates and returns the main response, which Playwright gives for any HTTP status.</summary>
    protected async Task<IResponse> GotoAsync(string path) =>
        await Page.GotoAsync(path) ?? throw new InvalidOperationException($"No response for {path}.");
}
