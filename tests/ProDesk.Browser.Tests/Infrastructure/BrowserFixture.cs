using Microsoft.Playwright;

namespace ProDesk.Browser.Tests.Infrastructure;

/// <summary>
/// One app process and one Chromium for the whole run: the app in Development on a throwaway SQLite
/// data directory (so it migrates and seeds the demo tenants), Chromium from the machine (never a
/// Playwright-downloaded build). Each test opens its own browser context.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly string dataDirectory = Directory.CreateTempSubdirectory("prodesk-browser-").FullName;
    private AppProcess? app;
    private IPlaywright? playwright;
    private IBrowser? browser;

    public AppProcess App => app ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>The app's data directory: mail it sends lands in its <c>mail-outbox</c> (no SMTP host is set).</summary>
    public string DataDirectory => dataDirectory;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        try
        {
            app = await AppProcess.StartAsync(
                new Dictionary<string, string>
                {
                    ["ASPNETCORE_ENVIRONMENT"] = "Development",
                    ["ProDesk__DataDirectory"] = dataDirectory,
                    ["ProDesk__SeedDirectory"] = Repository.SeedDirectory,
                    // Whatever the caller's shell says, these tests run on the embedded defaults.
                    ["Database__Provider"] = "Sqlite",
                    ["ConnectionStrings__ProDesk"] = "",
                    ["ConnectionStrings__Redis"] = "",
                    // Every browser test shares this one app and comes from 127.0.0.1, so the default
                    // sign-in limit (30 requests a minute per IP) would fail the run as tests are added.
                    // A test of the limiter itself needs its own app with the default.
                    ["Identity__SignInRequestsPerMinute"] = "1000",
                    // Likewise the same demo agents open consoles and item pages from every test of the run in this one app:
                    // the per-user cap on agent-hub connections (20 by default) counts them all. Its own test is a Web test.
                    ["Realtime__AgentConnectionsPerUser"] = "1000",
                },
                ReadyTimeout);

            // Expect-style assertions wait 5 s by default; a first request on a cold app on a small
            // machine (JIT, password hashing) can take longer than that.
            Assertions.SetDefaultExpectTimeout(15_000);

            playwright = await Playwright.CreateAsync();
            browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath(),
                Headless = true,
                Args =
                [
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                ],
            });
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh context (cookies, storage) whose relative URLs resolve against the app; <paramref name="options"/> set its time zone, locale, window.</summary>
    public Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions? options = null)
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = App.BaseAddress.ToString();
        return Browser.NewContextAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
            browser = null;
        }

        playwright?.Dispose();
        playwright = null;

        if (app is not null)
        {
            await app.DisposeAsync();
            app = null;
        }

        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temp directory is cleaned by the system eventually.
        }
    }

    private static string ChromiumPath()
    {
        var path = Environment.GetEnvironmentVariable("PRODESK_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"Chromium not found at {path}; install it (apt) or set PRODESK_CHROMIUM.", path);
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
