using System.Net;
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
            first = await CountsAsync(app);
        }

        Assert.True(File.Exists(Path.Combine(data, "prodesk.db")));
        Assert.Equal((4, 14, 130), first);

        await using (var again = new DefaultApp(data))
        {
            Assert.Equal(first, await CountsAsync(again));
            Assert.Contains("Acme Plomberie SAS support", await again.CreateClient().GetStringAsync("/t/acme"), StringComparison.Ordinal);
        }
    }
}
