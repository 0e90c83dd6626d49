using System.Net;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Health;

/// <summary>The Hangfire dashboard (jobs, the SLA sweeper's server) is for provider admins; to anyone else it does not exist.</summary>
public sealed class JobsDashboardTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_provider_admin_sees_the_dashboard_with_its_recurring_jobs()
    {
        var admin = await App.SignedInAsync("admin@prodesk.test");

        var response = await admin.GetAsync("/hangfire/recurring");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("token-pruning", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("supervisor@prodesk.test")]
    [InlineData("agent1@prodesk.test")]
    [InlineData("admin@acme.test")]
    public async Task Anyone_else_signed_in_gets_404(string email)
    {
        var client = await App.SignedInAsync(email);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/hangfire/jobs/enqueued")).StatusCode);
    }

    [Fact]
    public async Task An_anonymous_caller_or_a_token_gets_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await App.Client().GetAsync("/hangfire")).StatusCode);
        var token = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await token.GetAsync("/hangfire/recurring")).StatusCode);
    }
}
