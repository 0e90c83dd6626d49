using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ProDesk.Browser.Tests.Account;

/// <summary>
/// Cookie sign-in through the real form: each role lands on its own start page, a client admin
/// cannot open staff pages, failures and lockout read the same whether the account exists or not,
/// and sign-out really ends the session. The app is shared by the whole run and a lockout lasts
/// 15 minutes, so every test that fails sign-ins uses accounts no other test signs in with.
/// </summary>
public sealed partial class SignInTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private const string WrongPassword = "not-the-password-1!";
    private const string InvalidMessage = "Invalid email or password.";
    private const string LockedOutMessage = "Too many failed attempts. This account is locked for 15 minutes.";

    /// <summary>Failures that lock an account (or an unknown email) out.</summary>
    private const int MaxFailures = 5;

    private ILocator SignInButton => Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in", Exact = true });

    [Fact]
    public async Task Agent_lands_on_the_agent_console_with_their_name_in_the_header()
    {
        await SignInAsync("agent1@prodesk.test", "/agent");

        await Expect(Page.GetByTestId("start-page")).ToHaveTextAsync("Agent console");
        await Expect(Page.GetByTestId("signed-in-as")).ToHaveTextAsync("Alex Martin");
        await Expect(Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign out", Exact = true })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Agent_sees_exactly_the_tenants_they_serve()
    {
        await SignInAsync("agent2@prodesk.test", "/agent");

        // The page is rendered by the server: once its heading is there, so is the whole list.
        await Expect(Page.GetByTestId("start-page")).ToHaveTextAsync("Agent console");
        var badges = await Page.Locator("ul.tenants .badge").AllInnerTextsAsync();
        Assert.Equal(["acme", "northwind"], badges.Select(b => b.Trim()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Client_admin_lands_on_the_portal_of_their_tenant_and_cannot_open_the_agent_console()
    {
        await SignInAsync("admin@acme.test", "/portal");

        await Expect(Page.GetByTestId("start-page")).ToHaveTextAsync("Client portal");
        await Expect(Page.GetByTestId("portal-tenant")).ToHaveTextAsync("Acme Plomberie SAS");

        var response = await GotoAsync("/agent");

        Assert.Equal(404, response.Status);
        // Still signed in: a 404, not a trip back to the sign-in form.
        Assert.Equal("/agent", new Uri(Page.Url).AbsolutePath);
    }

    [Fact]
    public async Task Six_wrong_passwords_lock_the_account_out_even_for_the_right_password()
    {
        // Dedicated account: nothing else signs in as the Merlion viewer.
        const string email = "viewer@merlion.test";

        for (var attempt = 1; attempt < MaxFailures; attempt++)
        {
            var (_, message) = await FailSignInAsync(email, WrongPassword);
            Assert.True(message == InvalidMessage, $"Attempt {attempt}: \"{message}\"");
        }

        _ = await FailSignInAsync(email, WrongPassword);
        var (sixthStatus, sixthMessage) = await FailSignInAsync(email, WrongPassword);

        Assert.Equal(200, sixthStatus);
        Assert.Equal(LockedOutMessage, sixthMessage);

        // Locked means locked: the right password is refused too, and no session is opened.
        var (_, withRightPassword) = await FailSignInAsync(email, DemoPassword);
        Assert.Equal(LockedOutMessage, withRightPassword);
        Assert.Equal("/login", new Uri(Page.Url).AbsolutePath);
        await Expect(Page.GetByTestId("signed-in-as")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Unknown_email_gets_the_same_answers_as_a_known_one_with_a_wrong_password()
    {
        // Dedicated addresses: nothing else signs in as the SLA Lab viewer, and the other is no account.
        const string knownEmail = "viewer@sla-lab.test";
        const string unknownEmail = "nobody@prodesk.test";

        var known = new List<(int Status, string Message)>();
        var unknown = new List<(int Status, string Message)>();
        for (var attempt = 1; attempt <= MaxFailures + 1; attempt++)
        {
            known.Add(await FailSignInAsync(knownEmail, WrongPassword));
            unknown.Add(await FailSignInAsync(unknownEmail, WrongPassword));
        }

        Assert.Equal((200, InvalidMessage), known[0]);
        Assert.Equal(known[0], unknown[0]);
        Assert.Equal((200, LockedOutMessage), known[^1]);
        Assert.Equal(known[^1], unknown[^1]);
        // Not only the first and the last: no attempt in between tells the two apart either.
        Assert.Equal(known, unknown);
    }

    [Fact]
    public async Task Sign_out_ends_the_session()
    {
        await SignInAsync("agent1@prodesk.test", "/agent");
        await Expect(Page.GetByTestId("signed-in-as")).ToHaveTextAsync("Alex Martin");
        // The console has finished loading (its hub is connected) before the sign-out navigates away from it.
        await Expect(Page.Locator("[data-live-status]")).ToHaveTextAsync("live");

        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign out", Exact = true }).ClickAsync();
        await Page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/logout", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });

        await Expect(Page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "You are signed out" })).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("signed-in-as")).ToHaveCountAsync(0);

        await GotoAsync("/agent");

        await Expect(Page).ToHaveURLAsync(LoginRedirectFromAgent());
        await Expect(SignInButton).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("signed-in-as")).ToHaveCountAsync(0);
    }

    /// <summary>Signs in with the demo password and waits until the browser is on <paramref name="startPath"/>.</summary>
    private async Task SignInAsync(string email, string startPath)
    {
        await FillAndSubmitAsync(email, DemoPassword);
        // On the page once its navigation commits: the callers' expectations wait for what they read. Waiting for the
        // load event as well once timed out in CI on the console, whose live connection keeps requests open.
        await Page.WaitForURLAsync(url => new Uri(url).AbsolutePath == startPath, new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });
    }

    /// <summary>
    /// One failed sign-in from a freshly loaded form (which shows no message), so the message read
    /// afterwards is the answer to this attempt, not the previous one. Returns the POST's status and
    /// the message shown.
    /// </summary>
    private async Task<(int Status, string Message)> FailSignInAsync(string email, string password)
    {
        var response = await Page.RunAndWaitForResponseAsync(
            () => FillAndSubmitAsync(email, password),
            r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == "/login");

        var message = Page.GetByTestId("login-message");
        await Expect(message).ToBeVisibleAsync();
        return (response.Status, (await message.InnerTextAsync()).Trim());
    }

    private async Task FillAndSubmitAsync(string email, string password)
    {
        await GotoAsync("/login");
        await Expect(Page.GetByTestId("login-message")).ToHaveCountAsync(0);
        await Page.GetByLabel("Email").FillAsync(email);
        await Page.GetByLabel("Password").FillAsync(password);
        await SignInButton.ClickAsync();
    }

    [GeneratedRegex(@"/login\?ReturnUrl=%2Fagent$")]
    private static partial Regex LoginRedirectFromAgent();
}
