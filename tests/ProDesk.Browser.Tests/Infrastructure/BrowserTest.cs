using System.Net.Http.Json;
using System.Text.Json;
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

    public const string DemoPassword = "ProDesk-Demo-1!";

    /// <summary>A second browser context signed in as <paramref name="email"/>, on its live start page; <paramref name="options"/> as for <see cref="BrowserFixture.NewContextAsync"/>.</summary>
    protected async Task<IPage> SignedInPageAsync(string email, string start = "/agent", BrowserNewContextOptions? options = null)
    {
        var other = await fixture.NewContextAsync(options);
        var signedIn = await other.NewPageAsync();
        await signedIn.GotoAsync("/login");
        await signedIn.GetByLabel("Email").FillAsync(email);
        await signedIn.GetByLabel("Password").FillAsync(DemoPassword);
        await signedIn.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in", Exact = true }).ClickAsync();
        await signedIn.WaitForURLAsync("**" + start);
        await Assertions.Expect(signedIn.Locator("[data-live-status]")).ToHaveTextAsync("live");
        return signedIn;
    }

    /// <summary>An HTTP client of the app signed in as the tenant's integration client (client credentials).</summary>
    protected async Task<HttpClient> IntegrationClientAsync(string slug)
    {
        var http = new HttpClient { BaseAddress = fixture.App.BaseAddress };
        var secret = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, slug, "clients.json"))).RootElement.GetProperty("clientSecret").GetString()!;
        var token = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = $"{slug}-integration", ["client_secret"] = secret, ["scope"] = "api",
        }));
        var accessToken = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        http.DefaultRequestHeaders.Authorization = new("Bearer", accessToken);
        return http;
    }

    /// <summary>Creates a conversation through the API channel as the tenant's integration client; returns its id.</summary>
    protected async Task<Guid> CreateConversationAsync(string slug, string subject)
    {
        using var http = await IntegrationClientAsync(slug);
        var created = await http.PostAsJsonAsync($"api/v1/tenants/{slug}/conversations",
            new { from = "client@example.fr", name = "A customer", subject, body = "Help, please.", externalId = Guid.NewGuid().ToString() });
        created.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Navigates and returns the main response, which Playwright gives for any HTTP status.</summary>
    protected async Task<IResponse> GotoAsync(string path) =>
        await Page.GotoAsync(path) ?? throw new InvalidOperationException($"No response for {path}.");
}
