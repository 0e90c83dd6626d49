using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Data;

/// <summary>The embedded default: SQLite under the data directory, Hangfire in memory, seeded in Development.</summary>
public sealed class SqliteSmokeTests
{
    private sealed class DefaultApp(string dataDirectory) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ProDesk:DataDirectory", dataDirectory);
            builder.UseSetting("ProDesk:SeedDirectory", Repository.SeedDirectory);
        }
    }

    private static async Task<string> CliToken(WebApplicationFactory<Program> app, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ProDesk.Data.Identity.AppUser>>().FindByEmailAsync(email);
        return (await scope.ServiceProvider.GetRequiredService<ProDesk.Web.Identity.PersonalAccessTokens>().CreateAsync(user!, "smoke")).Secret;
    }

    private static async Task<(int Tenants, int Users, int Contacts)> CountsAsync(WebApplicationFactory<Program> app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var all = await scope.ServiceProvider.GetRequiredService<TenantScopes>().ForSystemAsync("test");
        using (TenantScopes.Enter(all))
        {
            return (await db.Tenants.CountAsync(), await db.Users.CountAsync(), await db.Contacts.CountAsync());
        }
    }

    [Fact]
    public async Task The_default_configuration_boots_on_sqlite_seeds_once_and_keeps_its_data()
    {
        var data = Directory.CreateTempSubdirectory("prodesk-sqlite-").FullName;
        (int, int, int) first;
        await using (var app = new DefaultApp(data))
        {
            var client = app.CreateClient();
            var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("InMemoryStorage", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Contains("ProDesk", await client.GetStringAsync("/"), StringComparison.Ordinal);

            // The API channel and claim-next on SQLite (its claim path differs from PostgreSQL's).
            var integration = app.CreateClient().WithBearer((await app.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!);
            var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "c@example.fr", subject = "On SQLite", body = "b", externalId = "sqlite-1" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var token = await CliToken(app, "agent1@prodesk.test");
            var agent = app.CreateClient().WithBearer(token);
            var claimed = await agent.PostAsync("/api/v1/work/next", null);
            Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
            Assert.Equal("acme", JsonDocument.Parse(await claimed.Content.ReadAsStringAsync()).RootElement.GetProperty("tenant").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsync("/api/v1/work/next", null)).StatusCode);
            Assert.Equal(1, (await integration.JsonAsync("/api/v1/tenants/acme/work-items")).GetProperty("items").GetArrayLength());
            first = await CountsAsync(app);
        }

        Assert.True(File.Exists(Path.Combine(data, "prodesk.db")));
        // 130 demo contacts, plus the customer of the conversation created above.
        Assert.Equal((4, 14, 131), first);

        await using (var again = new DefaultApp(data))
        {
            Assert.Equal(first, await CountsAsync(again));
            Assert.Contains("Acme Plomberie SAS support", await again.CreateClient().GetStringAsync("/t/acme"), StringComparison.Ordinal);
        }
    }
}
