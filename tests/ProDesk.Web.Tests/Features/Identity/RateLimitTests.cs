using System.Net;
using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>
/// Sign-in and the token endpoint are rate-limited per client IP: a password sprayer gets 429s. The API is limited per
/// caller (user or integration client), so one client's flood cannot take the shared desk.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Too_many_sign_in_and_token_requests_from_one_address_get_429()
    {
        await using var app = new DevelopmentApp(("Identity:SignInRequestsPerMinute", "4"));
        var client = app.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = "acme-integration",
                ["client_secret"] = $"guess-{i}",
            }))).StatusCode);
        }

        Assert.All(statuses.Take(4), s => Assert.NotEqual(HttpStatusCode.TooManyRequests, s));
        Assert.All(statuses.Skip(4), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        var limited = await client.GetAsync("/login");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // When to come back, and problem details like every other refusal.
        Assert.InRange(limited.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task An_ipv6_host_is_counted_by_its_64_so_rotating_addresses_gains_nothing()
    {
        await using var app = new DevelopmentApp(("Identity:SignInRequestsPerMinute", "3"));
        HttpClient From(string address) =>
            new(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };

        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 4; i++)
        {
            statuses.Add((await From($"2001:db8:1:2::{i:x}").GetAsync("/login")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, (await From("2001:db8:1:3::1").GetAsync("/login")).StatusCode);
    }

    private static async Task<string> PatAsync(DevelopmentApp app, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email) ?? throw new InvalidOperationException(email);
        return (await scope.ServiceProvider.GetRequiredService<PersonalAccessTokens>().CreateAsync(user, "test")).Secret;
    }

    [Fact]
    public async Task A_caller_over_its_api_allowance_gets_429_with_retry_after_while_other_callers_go_on()
    {
        await using var app = new DevelopmentApp(("Api:RateLimit:PermitsPerMinute", "1"), ("Api:RateLimit:Burst", "3"));
        var acme = app.CreateClient().WithBearer((await app.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await acme.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var limited = await acme.GetAsync("/api/v1/tenants/acme/reports/sla");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // When to come back (a whole minute for one permit a minute), as problem details like every other refusal.
        Assert.InRange(limited.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many requests", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another client's integration, from the same address, still has its own allowance; pages are not counted.
        var northwind = app.CreateClient().WithBearer((await app.ClientCredentialsAsync("northwind-integration", Browserless.DemoSecret("northwind"))).GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await northwind.GetAsync("/api/v1/tenants/northwind/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await acme.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task A_users_tokens_share_one_allowance_and_callers_without_a_valid_token_are_counted_by_address()
    {
        await using var app = new DevelopmentApp(("Api:RateLimit:PermitsPerMinute", "1"), ("Api:RateLimit:Burst", "2"));
        var (one, two) = (app.CreateClient().WithBearer(await PatAsync(app, "agent1@prodesk.test")), app.CreateClient().WithBearer(await PatAsync(app, "agent1@prodesk.test")));
        Assert.Equal(HttpStatusCode.OK, (await one.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await one.GetAsync("/api/v1/me")).StatusCode);
        // A second token of the same person gains nothing.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await two.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().WithBearer(await PatAsync(app, "agent2@prodesk.test")).GetAsync("/api/v1/me")).StatusCode);

        // A token guesser gets its 401s until its address's allowance is spent.
        var guesser = app.CreateClient().WithBearer("pdk_guess");
        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests],
            [(await guesser.GetAsync("/api/v1/me")).StatusCode, (await guesser.GetAsync("/api/v1/me")).StatusCode, (await guesser.GetAsync("/api/v1/me")).StatusCode]);
    }
}
