using System.Net;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// RFC 9110 9.1: every route that answers GET answers HEAD with the same status and headers (uptime monitors and link
/// checkers send HEAD); a route without GET still says 405 (<see cref="MethodNotAllowedTests"/>).
/// </summary>
public sealed class HeadRequestTests
{
    [Theory]
    [InlineData("/health/live", HttpStatusCode.OK)]
    [InlineData("/health/ready", HttpStatusCode.OK)]
    [InlineData("/openapi/v1.json", HttpStatusCode.OK)]
    [InlineData("/api/v1/me", HttpStatusCode.Unauthorized)]
    [InlineData("/api/v1/tenants/acme/work-items", HttpStatusCode.Unauthorized)]
    public async Task Head_answers_as_get_does(string path, HttpStatusCode expected)
    {
        await using var app = new DevelopmentApp();
        var client = app.CreateClient();

        var get = await client.GetAsync(path);
        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(expected, get.StatusCode);
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
    }
}
