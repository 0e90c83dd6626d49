using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>Bearer authentication: personal access tokens and OpenIddict tokens, and what each may see.</summary>
public sealed class TokenTests(ProDeskApp app) : PostgresTest(app)
{
    private static string[] Slugs(JsonElement tenants) => tenants.EnumerateArray().Select(t => t.GetProperty("slug").GetString()!).Order().ToArray();

    [Fact]
    public async Task A_personal_access_token_acts_as_its_user()
    {
        var client = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);
        var me = await client.JsonAsync("/api/v1/me");
        Assert.Equal("agent2@prodesk.test", me.GetProperty("email").GetString());
        Assert.Equal(["Agent"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["acme", "northwind"], Slugs(me.GetProperty("tenants")));
        Assert.Equal(["acme", "northwind"], Slugs(await client.JsonAsync("/api/v1/tenants")));
    }

    [Fact]
    public async Task Revoking_a_token_closes_the_hub_connection_opened_with_it_at_once()
    {
        // Re-check intervals as long as a test can wait: only the revocation itself can close the connection in time.
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600").UseSetting("Realtime:HubRecheckSeconds", "600"));
        var (tokenId, secret) = await App.PatAsync("agent4@prodesk.test");
        await using var connection = node.AgentHub(secret, webSocket: true);
        var closed = connection.ClosedAsync();
        await connection.StartAsync();
        // StartAsync returns at the handshake, before the hub has taken the connection in; a call is answered after.
        await connection.InvokeAsync("SetStatus", "Online");

        // Another of the user's tokens revokes it; nothing else about the user changes.
        var other = node.CreateClient().WithBearer((await App.PatAsync("agent4@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.NoContent, (await other.DeleteAsync($"/api/v1/me/tokens/{tokenId}")).StatusCode);

        await closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HubConnectionState.Disconnected, connection.State);
    }

    [Fact]
    public async Task Tokens_are_stored_hashed_shown_once_and_record_their_last_use()
    {
        var secret = (await App.PatAsync("agent1@prodesk.test")).Secret;
        await App.CreateClient().WithBearer(secret).JsonAsync("/api/v1/me");

        await using var scope = App.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().PersonalAccessTokens.SingleAsync();
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), stored.Hash);
        Assert.NotNull(stored.LastUsedAt);

        var listed = await App.CreateClient().WithBearer(secret).JsonAsync("/api/v1/me/tokens");
        Assert.DoesNotContain(secret, listed.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(secret[4..12], listed[0].GetProperty("prefix").GetString());
    }

    [Fact]
    public async Task Users_create_and_revoke_their_own_tokens_and_a_revoked_token_stops_working()
    {
        var client = await App.SignedInAsync("agent3@prodesk.test");
        var antiforgeryFree = await client.PostAsJsonAsync("/api/v1/me/tokens", new { name = "laptop" });
        Assert.Equal(HttpStatusCode.Created, antiforgeryFree.StatusCode);
        var created = JsonDocument.Parse(await antiforgeryFree.Content.ReadAsStringAsync()).RootElement;
        var secret = created.GetProperty("token").GetString()!;
        var bearer = App.CreateClient().WithBearer(secret);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/api/v1/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/me/tokens/{created.GetProperty("id").GetGuid()}")).StatusCode);
        var after = await bearer.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", after.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_token_cannot_mint_another_token_so_revoking_a_stolen_one_ends_it()
    {
        var bearer = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var minted = await bearer.PostAsJsonAsync("/api/v1/me/tokens", new { name = "child" });
        Assert.Equal(HttpStatusCode.Forbidden, minted.StatusCode);
        Assert.Equal("application/problem+json", minted.Content.Headers.ContentType?.MediaType);
        Assert.Single((await bearer.JsonAsync("/api/v1/me/tokens")).EnumerateArray());
    }

    [Fact]
    public async Task A_session_left_open_after_a_password_change_cannot_mint_a_token_that_would_outlive_it()
    {
        // As shipped, a browser session re-reads its user once a minute (the tests' app re-reads it on every request).
        using var shipped = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600"));
        var stolen = await shipped.SignedInAsync("agent3@prodesk.test");
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = (await users.FindByEmailAsync("agent3@prodesk.test"))!;
            Assert.True((await users.ChangePasswordAsync(user, Browserless.DemoPassword, "Another-Pass-2!")).Succeeded);
        }

        var minted = await stolen.PostAsJsonAsync("/api/v1/me/tokens", new { name = "kept" });
        Assert.False(minted.IsSuccessStatusCode, $"{(int)minted.StatusCode}: {await minted.Content.ReadAsStringAsync()}");
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.PersonalAccessTokens.CountAsync(t => t.Name == "kept")));
        Assert.NotEqual(HttpStatusCode.OK, (await stolen.GetAsync("/account/tokens")).StatusCode);
    }

    [Fact]
    public async Task Creating_a_token_on_the_page_shows_its_secret_once_and_a_refresh_creates_no_second()
    {
        var browser = await App.SignedInAsync("agent4@prodesk.test");
        var name = $"laptop-{Guid.NewGuid():N}"[..15];
        var created = await browser.PostAsync("/account/tokens?handler=Create", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Name"] = name,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/tokens"),
        }));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);

        // The browser follows the redirect: the secret is there once; a refresh is a GET that shows it no more.
        var shown = await browser.GetStringAsync(created.Headers.Location!.OriginalString);
        Assert.Contains("data-testid=\"new-token\"", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"new-token\"", await browser.GetStringAsync(created.Headers.Location!.OriginalString), StringComparison.Ordinal);
        var agent = (await App.UserAsync("agent4@prodesk.test")).Id;
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.PersonalAccessTokens.CountAsync(t => t.Name == name && t.UserId == agent)));
    }

    [Fact]
    public async Task Revoking_one_token_many_times_at_once_revokes_it_once()
    {
        var (id, secret) = await App.PatAsync("agent1@prodesk.test");
        var owner = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => owner.DeleteAsync($"/api/v1/me/tokens/{id}")));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.NoContent);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.NoContent), a => Assert.Equal(HttpStatusCode.NotFound, a.StatusCode));
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().WithBearer(secret).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Nobody_can_revoke_or_see_another_users_token()
    {
        var victim = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var victimTokenId = (await victim.JsonAsync("/api/v1/me/tokens"))[0].GetProperty("id").GetGuid();

        var attacker = App.CreateClient().WithBearer((await App.PatAsync("admin@northwind.test")).Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await attacker.DeleteAsync($"/api/v1/me/tokens/{victimTokenId}")).StatusCode);
        Assert.Single((await attacker.JsonAsync("/api/v1/me/tokens")).EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await victim.GetAsync("/api/v1/me")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("pdk_not-a-real-token")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")]
    [InlineData("garbage")]
    public async Task Missing_malformed_or_unknown_tokens_get_401_with_a_bearer_challenge(string? token)
    {
        var client = App.CreateClient();
        if (token is not null)
        {
            client.WithBearer(token);
        }

        var response = await client.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task An_integration_client_acts_for_its_own_tenant_only()
    {
        var token = await App.ClientCredentialsAsync("northwind-integration", Browserless.DemoSecret("northwind"));
        var client = App.CreateClient().WithBearer(token.GetProperty("access_token").GetString()!);
        var me = await client.JsonAsync("/api/v1/me");
        Assert.Equal("northwind-integration", me.GetProperty("id").GetString());
        Assert.Equal(["Integration"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["northwind"], Slugs(await client.JsonAsync("/api/v1/tenants")));
        // A client is no user: it has no personal access tokens to list, make or revoke.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/v1/me/tokens", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/v1/me/tokens/{Guid.NewGuid()}")).StatusCode);

        var html = await client.GetAsync("/t/acme");
        Assert.Equal(HttpStatusCode.NotFound, html.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/t/northwind")).StatusCode);
    }

    [Fact]
    public async Task A_wrong_client_secret_gets_no_token()
    {
        var answer = await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("northwind"));
        Assert.Equal("invalid_client", answer.GetProperty("error").GetString());
        Assert.False(answer.TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task Discovery_describes_the_token_and_authorization_endpoints()
    {
        var discovery = await App.CreateClient().JsonAsync("/.well-known/openid-configuration");
        Assert.Equal("http://localhost/connect/token", discovery.GetProperty("token_endpoint").GetString());
        Assert.Equal("http://localhost/connect/authorize", discovery.GetProperty("authorization_endpoint").GetString());
        var grants = discovery.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()).ToList();
        Assert.Contains("client_credentials", grants);
        Assert.Contains("authorization_code", grants);
        Assert.Contains("refresh_token", grants);
        Assert.Equal(["S256"], discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(g => g.GetString()));
    }

    [Fact]
    public async Task With_a_configured_issuer_a_token_works_on_every_host_the_desk_answers_on()
    {
        using var host = App.WithWebHostBuilder(b => b.UseSetting("Identity:Issuer", "https://desk.example.com"));
        var http = host.CreateClient();
        var issued = await host.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"));
        var token = issued.GetProperty("access_token").GetString()!;

        foreach (var name in new[] { "localhost", "support.acme.test", "desk.example.com" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me") { Headers = { Host = name } };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        }

        using var discovery = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration") { Headers = { Host = "evil.example" } };
        var document = await (await http.SendAsync(discovery)).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal("https://desk.example.com/", document.GetProperty("issuer").GetString());
    }
}
