using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Pages.Account;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>Cookie sign-in at /login: start pages per role, lockout, and no hint whether an account exists.</summary>
public sealed class SignInTests(ProDeskApp app) : PostgresTest(app)
{
    [Theory]
    [InlineData("agent1@prodesk.test", "/agent", "Agent console")]
    [InlineData("supervisor@prodesk.test", "/supervisor", "Supervisor wallboard")]
    [InlineData("admin@prodesk.test", "/admin", "Provider admin")]
    [InlineData("admin@acme.test", "/portal", "Client portal")]
    public async Task Each_role_lands_on_its_own_start_page(string email, string start, string heading)
    {
        var client = App.Client();
        var response = await client.PostLoginAsync(email, Browserless.DemoPassword);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(start, response.Headers.Location?.OriginalString);
        Assert.Contains($"data-testid=\"start-page\">{heading}<", await client.GetStringAsync(start), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_admin_sees_only_its_tenant_and_no_provider_page()
    {
        var client = await App.SignedInAsync("admin@acme.test");
        Assert.Contains("Acme Plomberie SAS", await client.GetStringAsync("/portal"), StringComparison.Ordinal);
        foreach (var page in new[] { "/agent", "/supervisor", "/admin" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(page)).StatusCode);
        }
    }

    [Fact]
    public async Task An_agent_page_lists_only_the_tenants_it_serves()
    {
        var html = await (await App.SignedInAsync("agent2@prodesk.test")).GetStringAsync("/agent");
        Assert.Contains("<span class=\"badge\">acme</span>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge\">northwind</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<span class=\"badge\">merlion</span>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_the_login_page()
    {
        var response = await App.Client().GetAsync("/agent");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/login?ReturnUrl=%2Fagent", response.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_email_get_the_same_answer()
    {
        var known = await App.Client().PostLoginAsync("agent3@prodesk.test", "wrong-password");
        var unknown = await App.Client().PostLoginAsync("nobody@prodesk.test", "wrong-password");
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(LoginModel.InvalidMessage, Browserless.LoginMessage(await known.Content.ReadAsStringAsync()));
        Assert.Equal(LoginModel.InvalidMessage, Browserless.LoginMessage(await unknown.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData("viewer@northwind.test")]
    [InlineData("ghost@northwind.test")]
    public async Task Five_failures_lock_the_email_out_whether_or_not_it_has_an_account(string email)
    {
        var client = App.Client();
        var messages = new List<string?>();
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            messages.Add(Browserless.LoginMessage(await (await client.PostLoginAsync(email, $"wrong-{attempt}")).Content.ReadAsStringAsync()));
        }

        Assert.All(messages.Take(4), m => Assert.Equal(LoginModel.InvalidMessage, m));
        Assert.All(messages.Skip(4), m => Assert.Equal(LoginModel.LockedOutMessage, m));

        // Locked means locked: the right password does not get in either.
        var right = await client.PostLoginAsync(email, Browserless.DemoPassword);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(LoginModel.LockedOutMessage, Browserless.LoginMessage(await right.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_lockout_anyone_can_cause_by_guessing_leaves_the_users_access_tokens_working()
    {
        var (_, secret) = await App.PatAsync("admin@northwind.test");
        var client = App.Client();
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            await client.PostLoginAsync("admin@northwind.test", $"wrong-{attempt}");
        }

        Assert.Equal(LoginModel.LockedOutMessage, Browserless.LoginMessage(await (await client.PostLoginAsync("admin@northwind.test", Browserless.DemoPassword)).Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer(secret).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task A_locked_account_costs_a_password_hash_like_an_unknown_address_so_its_answer_is_not_quicker()
    {
        var hasher = new CountingHasher();
        using var host = App.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IPasswordHasher<AppUser>>(hasher)));
        var client = host.Client();
        var hashesPerAttempt = new Dictionary<string, List<int>>();
        foreach (var email in new[] { "viewer@northwind.test", "ghost@northwind.test" })
        {
            hashesPerAttempt[email] = [];
            for (var attempt = 1; attempt <= 7; attempt++)
            {
                var before = hasher.Calls;
                var answer = Browserless.LoginMessage(await (await client.PostLoginAsync(email, $"wrong-{attempt}")).Content.ReadAsStringAsync());
                Assert.Equal(attempt <= 4 ? LoginModel.InvalidMessage : LoginModel.LockedOutMessage, answer);
                hashesPerAttempt[email].Add(hasher.Calls - before);
            }
        }

        Assert.All(hashesPerAttempt.Values, counts => Assert.All(counts, c => Assert.Equal(1, c)));
    }

    private sealed class CountingHasher : IPasswordHasher<AppUser>
    {
        private readonly PasswordHasher<AppUser> _inner = new();
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string HashPassword(AppUser user, string password)
        {
            Interlocked.Increment(ref _calls);
            return _inner.HashPassword(user, password);
        }

        public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _calls);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    [Fact]
    public async Task Sign_ins_failures_and_lockouts_are_in_the_audit_log_with_actor_and_time()
    {
        await App.SignedInAsync("agent1@prodesk.test");
        for (var i = 0; i < 5; i++)
        {
            await App.Client().PostLoginAsync("agent4@prodesk.test", "wrong");
        }

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var events = await db.AuditEvents.OrderBy(e => e.Id).Select(e => new { e.Action, e.ActorName, e.At, e.Ip }).ToListAsync();
        Assert.Contains(events, e => e.Action == "sign-in" && e.ActorName == "agent1@prodesk.test");
        Assert.Equal(4, events.Count(e => e.Action == "sign-in-failed" && e.ActorName == "agent4@prodesk.test"));
        Assert.Contains(events, e => e.Action == "locked-out" && e.ActorName == "agent4@prodesk.test");
        Assert.All(events, e => Assert.True(e.At > DateTime.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task The_audit_log_refuses_changes_even_from_the_apps_own_role()
    {
        await App.SignedInAsync("agent1@prodesk.test");
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("""UPDATE "AuditEvents" SET "ActorName" = 'someone else'"""));
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("""DELETE FROM "AuditEvents" """));
        Assert.True(await db.AuditEvents.AnyAsync(e => e.ActorName == "agent1@prodesk.test"));
    }

    [Fact]
    public async Task A_cookie_copied_before_sign_out_signs_in_nobody_after_it()
    {
        var browser = App.Client();
        var login = await browser.PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword);
        var copied = Browserless.SessionCookie(login);
        using var otherBrowser = await App.SignedInAsync("agent1@prodesk.test");
        Assert.Equal(HttpStatusCode.OK, (await WithCookieAsync(HttpMethod.Get, "/api/v1/me", copied)).StatusCode);

        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostLogoutAsync()).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookieAsync(HttpMethod.Get, "/api/v1/me", copied)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookieAsync(HttpMethod.Post, "/api/v1/me/tokens", copied, new { name = "kept after sign-out" })).StatusCode);
        // Only that session ended: the same user's other browser is still signed in.
        Assert.Equal(HttpStatusCode.OK, (await otherBrowser.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task A_sign_in_over_a_planted_session_cookie_starts_a_session_of_its_own()
    {
        // Session fixation: someone who can set a cookie for the site (a sibling subdomain, a plain-HTTP hop) puts their
        // own session cookie in the victim's browser; the victim signs in over it.
        var planted = Browserless.SessionCookie(await App.Client().PostLoginAsync("viewer@acme.test", Browserless.DemoPassword));
        var victim = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var form = new HttpRequestMessage(HttpMethod.Get, "/login");
        form.Headers.Add("Cookie", planted);
        var page = await victim.SendAsync(form);
        var antiforgery = page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        using var post = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Email"] = "admin@acme.test",
                ["Password"] = Browserless.DemoPassword,
                ["__RequestVerificationToken"] = Browserless.AntiforgeryTokenIn(await page.Content.ReadAsStringAsync(), "/login"),
            }),
        };
        post.Headers.Add("Cookie", $"{planted}; {antiforgery}");
        var signedIn = await victim.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var victimsSession = Browserless.SessionCookie(signedIn);

        Assert.NotEqual(planted, victimsSession);
        var me = await WithCookieAsync(HttpMethod.Get, "/api/v1/me", victimsSession);
        Assert.Contains("admin@acme.test", await me.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The planter's copy is worth nothing: not the victim's session, and its own ended with the sign-in over it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookieAsync(HttpMethod.Get, "/api/v1/me", planted)).StatusCode);
    }

    private async Task<HttpResponseMessage> WithCookieAsync(HttpMethod method, string path, string cookie, object? body = null)
    {
        using var replay = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Add("Cookie", cookie);
        return await replay.SendAsync(request);
    }
}
