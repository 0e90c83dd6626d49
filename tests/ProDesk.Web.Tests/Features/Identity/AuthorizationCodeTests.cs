using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>
/// A person's OAuth flow: authorization code with PKCE through the cookie sign-in, refresh tokens,
/// and a password change that ends them; keys that outlive the node that made them.
/// </summary>
public sealed class AuthorizationCodeTests(ProDeskApp app) : PostgresTest(app)
{
    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string AuthorizeUrl(string challenge, string state = "xyz", string method = "S256", string scope = "api offline_access", string? prompt = null) =>
        QueryHelpers.AddQueryString(AuthorizeUrlWithout(challenge, state, method, scope), prompt is null ? [] : new Dictionary<string, string?> { ["prompt"] = prompt });

    private static string AuthorizeUrlWithout(string challenge, string state, string method, string scope) => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
    {
        ["client_id"] = DemoSeeder.InteractiveClientId,
        ["redirect_uri"] = DemoSeeder.InteractiveRedirectUri,
        ["response_type"] = "code",
        ["scope"] = scope,
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = method,
        ["state"] = state,
    });

    private async Task<JsonElement> TokenAsync(Dictionary<string, string> form)
    {
        var response = await App.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(form));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<(HttpClient Browser, JsonElement Tokens)> SignInWithCodeAsync(string email)
    {
        var (browser, tokens, _) = await SignInWithCodeAndKeepItAsync(email);
        return (browser, tokens);
    }

    /// <summary>Also the token request, as a thief who saw the code would send it again.</summary>
    private async Task<(HttpClient Browser, JsonElement Tokens, Dictionary<string, string> Redeem)> SignInWithCodeAndKeepItAsync(string email, string scope = "api offline_access")
    {
        var browser = await App.SignedInAsync(email);
        var (verifier, challenge) = Pkce();
        var authorize = await browser.GetAsync(AuthorizeUrl(challenge, scope: scope));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var redirect = authorize.Headers.Location!;
        Assert.StartsWith(DemoSeeder.InteractiveRedirectUri, redirect.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(redirect.Query);
        Assert.Equal("xyz", query["state"].ToString());

        var redeem = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["redirect_uri"] = DemoSeeder.InteractiveRedirectUri,
            ["code"] = query["code"].ToString(),
            ["code_verifier"] = verifier,
        };
        return (browser, await TokenAsync(redeem), redeem);
    }

    [Fact]
    public async Task A_signed_in_user_gets_a_code_then_tokens_that_act_as_the_user()
    {
        var (_, tokens) = await SignInWithCodeAsync("agent3@prodesk.test");
        var api = App.CreateClient().WithBearer(tokens.GetProperty("access_token").GetString()!);
        var me = await api.JsonAsync("/api/v1/me");
        Assert.Equal("agent3@prodesk.test", me.GetProperty("email").GetString());
        Assert.Equal(["merlion", "sla-lab"], me.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("slug").GetString()!).Order());
        Assert.True(tokens.TryGetProperty("refresh_token", out _));
    }

    [Fact]
    public async Task A_hub_connection_opened_with_an_access_token_closes_when_a_tenant_is_taken_from_its_user()
    {
        var (_, tokens) = await SignInWithCodeAsync("agent2@prodesk.test");
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        await using var connection = App.AgentHub(accessToken);
        var closed = connection.ClosedAsync();
        await connection.StartAsync();

        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var bea = await App.UserAsync("agent2@prodesk.test");
        Assert.True((await admin.PutAsync($"/api/v1/admin/staff/{bea.Id}/tenants",
            new StringContent("""{"tenants":["northwind"]}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode);

        // The assignment wakes the node's re-check, which compares the connection's tenants with the ones saved.
        await closed.WaitAsync(TimeSpan.FromSeconds(20));
        // Closed, not signed out: the console connects again with the same token, as the agent now is.
        await using var again = App.AgentHub(accessToken);
        await again.StartAsync();
    }

    [Fact]
    public async Task An_access_token_acts_in_a_tenant_given_to_its_user_and_stops_in_one_taken_away_at_once()
    {
        var (_, tokens) = await SignInWithCodeAsync("agent3@prodesk.test");
        var api = App.CreateClient().WithBearer(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/tenants/sla-lab/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);

        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent3@prodesk.test");
        Assert.True((await admin.PutAsync($"/api/v1/admin/staff/{agent.Id}/tenants",
            new StringContent("""{"tenants":["merlion","acme"]}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode);

        // The token still names sla-lab among its claims and not acme; what counts is whom its user serves now.
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/tenants/sla-lab/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        var me = await api.JsonAsync("/api/v1/me");
        Assert.Equal(["acme", "merlion"], me.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("slug").GetString()!).Order());
    }

    [Fact]
    public async Task A_refresh_token_outlives_a_change_of_tenants_and_the_new_token_carries_them()
    {
        var (_, tokens) = await SignInWithCodeAsync("agent3@prodesk.test");
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent3@prodesk.test");
        Assert.True((await admin.PutAsync($"/api/v1/admin/staff/{agent.Id}/tenants",
            new StringContent("""{"tenants":["merlion","sla-lab","acme"]}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode);

        var refreshed = await TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["client_id"] = DemoSeeder.InteractiveClientId, ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        Assert.True(refreshed.TryGetProperty("access_token", out var accessToken), refreshed.GetRawText());
        var claims = JsonDocument.Parse(Base64UrlDecode(accessToken.GetString()!.Split('.')[1])).RootElement;
        Assert.Equal(3, claims.GetProperty("tenant").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer(accessToken.GetString()!).GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        Assert.Equal(agent.SecurityStamp, (await App.UserAsync("agent3@prodesk.test")).SecurityStamp);
    }

    private static byte[] Base64UrlDecode(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);

    [Fact]
    public async Task A_token_granted_without_the_api_scope_acts_on_neither_the_api_nor_a_hub()
    {
        var (_, tokens, _) = await SignInWithCodeAndKeepItAsync("agent1@prodesk.test", scope: "openid profile offline_access");
        Assert.DoesNotContain("api", tokens.GetProperty("scope").GetString()!.Split(' '));
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var api = App.CreateClient().WithBearer(accessToken);

        var me = await api.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Forbidden, me.StatusCode);
        Assert.Contains("insufficient_scope", me.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var write = await api.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "x@example.com", subject = "no api scope", body = "b", externalId = "noscope-1" });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync(w => w.Subject == "no api scope")));

        await using var hub = App.AgentHub(accessToken);
        var refused = await Assert.ThrowsAnyAsync<HttpRequestException>(() => hub.StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Refreshing it does not add the scope it was never given.
        var refreshed = await TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["client_id"] = DemoSeeder.InteractiveClientId, ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        var again = await App.CreateClient().WithBearer(refreshed.GetProperty("access_token").GetString()!).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
    }

    [Fact]
    public async Task A_code_used_twice_ends_the_tokens_it_gave_and_those_refreshed_from_them()
    {
        var (_, tokens, redeem) = await SignInWithCodeAndKeepItAsync("agent1@prodesk.test");
        var refreshed = await TokenAsync(new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        foreach (var issued in new[] { tokens, refreshed })
        {
            Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer(issued.GetProperty("access_token").GetString()!).GetAsync("/api/v1/me")).StatusCode);
        }

        // The code came back: someone else has it too (RFC 6749 10.5), so nothing it gave may act any more.
        Assert.Equal("invalid_grant", (await TokenAsync(redeem)).GetProperty("error").GetString());
        foreach (var issued in new[] { tokens, refreshed })
        {
            var refused = await App.CreateClient().WithBearer(issued.GetProperty("access_token").GetString()!).GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        var again = await TokenAsync(new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["refresh_token"] = refreshed.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal("invalid_grant", again.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Authorize_without_a_session_sends_the_user_to_sign_in_and_back()
    {
        var response = await App.Client().GetAsync(AuthorizeUrl(Pkce().Challenge));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("http://localhost/login?ReturnUrl=%2Fconnect%2Fauthorize", location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_none_without_a_session_tells_the_client_a_sign_in_is_needed_and_with_one_gives_the_code()
    {
        var refused = await App.Client().GetAsync(AuthorizeUrl(Pkce().Challenge, prompt: "none"));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith(DemoSeeder.InteractiveRedirectUri, refused.Headers.Location!.ToString(), StringComparison.Ordinal);
        var answer = QueryHelpers.ParseQuery(refused.Headers.Location.Query);
        Assert.Equal(("login_required", "xyz"), (answer["error"].ToString(), answer["state"].ToString()));
        Assert.False(answer.ContainsKey("code"));

        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var silent = await browser.GetAsync(AuthorizeUrl(Pkce().Challenge, prompt: "none"));
        Assert.Equal(HttpStatusCode.Redirect, silent.StatusCode);
        Assert.NotEmpty(QueryHelpers.ParseQuery(silent.Headers.Location!.Query)["code"].ToString());
    }

    [Fact]
    public async Task Prompt_login_asks_for_the_password_again_even_within_a_session()
    {
        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var asked = await browser.GetAsync(AuthorizeUrl(Pkce().Challenge, prompt: "login"));
        Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
        Assert.StartsWith("http://localhost/login?ReturnUrl=", asked.Headers.Location!.ToString(), StringComparison.Ordinal);
        var returnUrl = QueryHelpers.ParseQuery(asked.Headers.Location.Query)["ReturnUrl"].ToString();
        Assert.DoesNotContain("prompt=", returnUrl, StringComparison.Ordinal);

        // A link any site can show: it ends no session (a GET that signed out was a sign-out any page could trigger).
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me")).StatusCode);
        // But the session from before is not a fresh sign-in: going straight back without the password gives no code.
        var straightBack = await browser.GetAsync(returnUrl);
        Assert.StartsWith("http://localhost/login", straightBack.Headers.Location!.ToString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword)).StatusCode);
        var given = await browser.GetAsync(returnUrl);
        Assert.StartsWith(DemoSeeder.InteractiveRedirectUri, given.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(QueryHelpers.ParseQuery(given.Headers.Location.Query)["code"].ToString());
    }

    [Fact]
    public async Task Form_post_is_neither_advertised_nor_used_to_hand_out_a_code()
    {
        var discovery = JsonDocument.Parse(await App.CreateClient().GetStringAsync("/.well-known/openid-configuration")).RootElement;
        Assert.DoesNotContain("form_post", discovery.GetProperty("response_modes_supported").EnumerateArray().Select(m => m.GetString()));

        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var response = await browser.GetAsync(QueryHelpers.AddQueryString(AuthorizeUrl(Pkce().Challenge), "response_mode", "form_post"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("name=\"code\"", body, StringComparison.Ordinal);
        Assert.False(response.Headers.Location is { } to && QueryHelpers.ParseQuery(to.Query).ContainsKey("code"));
    }

    [Fact]
    public async Task A_code_without_its_pkce_verifier_is_refused()
    {
        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var authorize = await browser.GetAsync(AuthorizeUrl(Pkce().Challenge));
        var code = QueryHelpers.ParseQuery(authorize.Headers.Location!.Query)["code"].ToString();
        var answer = await TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["redirect_uri"] = DemoSeeder.InteractiveRedirectUri,
            ["code"] = code,
            ["code_verifier"] = Pkce().Verifier,
        });
        Assert.Equal("invalid_grant", answer.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_plain_pkce_challenge_is_refused_and_no_code_is_given()
    {
        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var verifier = Pkce().Verifier;
        var authorize = await browser.GetAsync(AuthorizeUrl(verifier, method: "plain"));
        Assert.Equal(HttpStatusCode.BadRequest, authorize.StatusCode);
        Assert.Null(authorize.Headers.Location);
    }

    [Fact]
    public async Task Refresh_tokens_work_until_the_password_changes_which_also_ends_other_sessions_and_tokens()
    {
        var (browser, tokens) = await SignInWithCodeAsync("agent4@prodesk.test");
        var refresh = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        };
        var refreshed = await TokenAsync(refresh);
        Assert.True(refreshed.TryGetProperty("access_token", out _), refreshed.GetRawText());

        // As shipped, a session re-reads its user once a minute; the other session must end at once all the same.
        using var shipped = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600"));
        var otherSession = await shipped.SignedInAsync("agent4@prodesk.test");
        var pat = await App.CreateClient().WithBearer(await CreatePatAsync(browser)).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, pat.StatusCode);
        var patSecret = pat.RequestMessage!.Headers.Authorization!.Parameter!;

        var form = await Browserless.AntiforgeryTokenAsync(browser, "/account/security");
        var change = await browser.PostAsync("/account/security?handler=Password", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["CurrentPassword"] = Browserless.DemoPassword,
            ["NewPassword"] = "A-new-long-passphrase-2!",
            ["__RequestVerificationToken"] = form,
        }));
        Assert.True(change.StatusCode == HttpStatusCode.OK, $"password change: {(int)change.StatusCode} {change.Headers.Location}");
        Assert.Contains("Your password is changed", await change.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        refresh["refresh_token"] = refreshed.GetProperty("refresh_token").GetString()!;
        Assert.Equal("invalid_grant", (await TokenAsync(refresh)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().WithBearer(patSecret).GetAsync("/api/v1/me")).StatusCode);
        // "Every token of yours has ended": the access tokens too, not only when they expire.
        foreach (var issued in new[] { tokens, refreshed })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().WithBearer(issued.GetProperty("access_token").GetString()!).GetAsync("/api/v1/me")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Redirect, (await otherSession.GetAsync("/agent")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/agent")).StatusCode);

        await using var scope = App.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.AnyAsync(e => e.Action == "password-changed" && e.ActorName == "agent4@prodesk.test"));
    }

    [Fact]
    public async Task Tokens_survive_a_restart_and_work_on_another_node()
    {
        var token = (await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!;

        await using var otherNode = new SecondNode(App.Database);
        Assert.Equal("acme-integration", (await otherNode.CreateClient().WithBearer(token).JsonAsync("/api/v1/me")).GetProperty("id").GetString());

        await using var scope = App.Services.CreateAsyncScope();
        Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().ServerKeys.CountAsync());
    }

    private static async Task<string> CreatePatAsync(HttpClient signedIn)
    {
        var response = await signedIn.PostAsync("/api/v1/me/tokens", JsonContent("{\"name\":\"script\"}"));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A second app on the same database: another node, or the same one after a restart.</summary>
    private sealed class SecondNode(PostgresServer.TestDatabase database) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("Database:Provider", "Postgres");
            builder.UseSetting("ConnectionStrings:ProDesk", database.AppConnectionString);
            builder.UseSetting("ProDesk:SeedDirectory", Repository.SeedDirectory);
            builder.UseSetting("ProDesk:RunJobs", "false");
        }
    }
}
