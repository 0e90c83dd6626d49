using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>A tenant's data in an API answer is never kept by a shared proxy or a browser cache.</summary>
public sealed class ApiCachingTests
{
    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/tenants/acme/work-items")]
    [InlineData("/api/v1/nothing-here")]
    public async Task No_api_answer_may_be_kept_by_a_cache(string path)
    {
        await using var app = new DevelopmentApp();

        var answer = await app.CreateClient().GetAsync(path);

        Assert.True(answer.Headers.CacheControl?.NoStore, $"{path}: Cache-Control {answer.Headers.CacheControl}");
    }
}
