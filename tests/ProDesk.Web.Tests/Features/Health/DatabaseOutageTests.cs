using System.Net;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Health;

/// <summary>When the database goes away under a running node, readiness says so and liveness does not.</summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task Ready_answers_503_and_live_200_when_the_database_disappears()
    {
        var app = new ProDeskApp();
        await app.InitializeAsync();
        try
        {
            var client = app.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

            await PostgresServer.DropDatabaseAsync(app.Database.Name);

            var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("\"database\":{\"status\":\"Unhealthy\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
