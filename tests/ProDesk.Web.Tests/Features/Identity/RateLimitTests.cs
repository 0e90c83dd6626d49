using System.Net;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>Sign-in and the token endpoint are rate-limited per client IP: a password sprayer gets 429s.</summary>
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
}
