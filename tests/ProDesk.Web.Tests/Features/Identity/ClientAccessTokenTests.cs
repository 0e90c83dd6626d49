using System.Net;
using System.Security.Claims;
using ProDesk.Web.Identity;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>
/// An integration's access token is checked once and then taken as checked for a short while (decision 70): never past
/// its own expiry, never for a user's token, and never shared between requests as one object.
/// </summary>
public sealed class ClientAccessTokenTests(ProDeskApp app) : PostgresTest(app)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_checked_token_counts_as_checked_until_its_time_and_not_a_moment_longer()
    {
        var tokens = new ClientAccessTokenHandler.CheckedTokens();
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "acme-integration")], "test"));
        tokens.Keep("token-a", principal, Now.AddSeconds(40), Now);

        Assert.Same(principal, tokens.Find("token-a", Now.AddSeconds(39)));
        Assert.Null(tokens.Find("token-a", Now.AddSeconds(40)));
        // Gone for good once expired: a later clock going back (a corrected host clock) does not revive it.
        Assert.Null(tokens.Find("token-a", Now));
        Assert.Null(tokens.Find("token-b", Now));
    }

    [Fact]
    public void A_token_already_expired_is_not_kept_and_a_flood_of_tokens_does_not_lose_new_ones()
    {
        var tokens = new ClientAccessTokenHandler.CheckedTokens();
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "acme-integration")], "test"));
        tokens.Keep("expired", principal, Now, Now);
        Assert.Null(tokens.Find("expired", Now.AddTicks(-1)));

        for (var i = 0; i < 10_000; i++)
        {
            tokens.Keep($"token-{i}", principal, Now.AddMinutes(1), Now);
        }

        Assert.Same(principal, tokens.Find("token-9999", Now));
    }

    [Fact]
    public async Task An_integrations_token_works_on_every_request_and_for_its_own_tenant_only()
    {
        var token = (await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!;
        var client = App.CreateClient().WithBearer(token);
        for (var i = 0; i < 3; i++)
        {
            var me = await client.JsonAsync("/api/v1/me");
            Assert.Equal("acme-integration", me.GetProperty("id").GetString());
            Assert.Equal(["Integration"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }

        // A token altered by one character is another token: checked, and refused.
        var altered = token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().WithBearer(altered).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/tenants/northwind/work-items")).StatusCode);
    }

    [Fact]
    public async Task An_integration_that_asks_for_no_scope_gets_the_api_one_and_its_token_acts()
    {
        var response = await App.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "acme-integration", ["client_secret"] = Browserless.DemoSecret("acme"),
        }));
        var issued = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("api", issued.GetProperty("scope").GetString());
        var client = App.CreateClient().WithBearer(issued.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
    }

    [Fact]
    public async Task A_token_issued_for_another_host_counts_as_checked_on_no_host_but_its_own()
    {
        // Without a configured issuer the token names the host it was asked from; checked there, it must still be
        // refused here, however recently it was checked there.
        using var asked = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = "acme-integration", ["client_secret"] = Browserless.DemoSecret("acme"), ["scope"] = "api",
            }),
        };
        asked.Headers.Host = "evil.example";
        var issued = await App.CreateClient().SendAsync(asked);
        var token = System.Text.Json.JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        var client = App.CreateClient().WithBearer(token);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        using var there = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tenants/acme/work-items");
        there.Headers.Host = "evil.example";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(there)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
    }
}
