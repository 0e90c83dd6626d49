using System.Net;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// A wrong method on a known route gets 405 with the methods it takes, as the quick start runs it (Development,
/// from the build output): there ASP.NET's static-asset fallback for files added after the build matched every
/// GET and turned the answer into a 404 that said the route did not exist.
/// </summary>
public sealed class MethodNotAllowedTests
{
    [Theory]
    [InlineData("GET", "/api/v1/work/next", "POST")]
    [InlineData("HEAD", "/channels/webform/acme", "POST")]
    [InlineData("GET", "/channels/email/acme/inbound", "POST")]
    [InlineData("DELETE", "/api/v1/me", "GET")]
    public async Task A_wrong_method_on_a_known_route_gets_405_naming_the_allowed_ones(string method, string path, string allowed)
    {
        await using var app = new DevelopmentApp();
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains(allowed, response.Content.Headers.Allow);
    }
}
