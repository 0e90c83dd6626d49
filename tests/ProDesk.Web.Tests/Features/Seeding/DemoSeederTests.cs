using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Seeding;

public sealed class DemoSeederTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<DemoSeeder.Result> SeedAsync(bool demoHistory, string? environment = null)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        if (environment is null)
        {
            return await services.GetRequiredService<DemoSeeder>().SeedAsync(demoHistory);
        }

        var seeder = ActivatorUtilities.CreateInstance<DemoSeeder>(services, new FakeEnvironment(environment));
        return await seeder.SeedAsync(demoHistory);
    }

    [Fact]
    public async Task Seeding_again_creates_nothing_twice()
    {
        var again = await SeedAsync(demoHistory: true);
        Assert.Equal(new DemoSeeder.Result(0, 0, 0), again);
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        Assert.Equal(4, await db.Tenants.CountAsync());
        Assert.Equal(6 + 4 * 2, await db.Users.CountAsync());
    }

    [Fact]
    public async Task A_fresh_database_gets_the_tenants_staff_and_the_same_demo_history_every_time()
    {
        await using (var admin = new Npgsql.NpgsqlConnection(App.Database.AdminConnectionString))
        {
            await admin.OpenAsync();
            await PostgresServer.Execute(admin, """TRUNCATE "Tenants", "AspNetUsers", "AspNetRoles" CASCADE""");
        }

        App.Services.GetRequiredService<ProDesk.Web.Tenancy.ITenantStore>().Invalidate();
        var result = await SeedAsync(demoHistory: true);
        Assert.Equal(4, result.TenantsCreated);
        Assert.Equal(14, result.UsersCreated);
        Assert.Equal(40 + 40 + 40 + 10, result.ContactsCreated);

        var acme = await App.TenantAsync("acme");
        var expected = DemoHistory.Contacts(acme.Id, "acme", "fr", 40).Select(c => c.Email!).Order(StringComparer.Ordinal).ToList();
        var stored = await App.InTenantAsync("acme", db => db.Contacts.Select(c => c.Email!).ToListAsync());
        Assert.Equal(expected, stored.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Staff_get_their_roles_and_the_tenants_they_serve()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();

        var agent3 = await users.FindByEmailAsync("agent3@prodesk.test");
        Assert.NotNull(agent3);
        Assert.Equal([Roles.Agent], await users.GetRolesAsync(agent3));
        Assert.True(await users.CheckPasswordAsync(agent3, "ProDesk-Demo-1!"));
        var served = await db.StaffTenants.Where(s => s.UserId == agent3.Id).Join(db.Tenants, s => s.TenantId, t => t.Id, (s, t) => t.Slug).OrderBy(s => s).ToListAsync();
        Assert.Equal(["merlion", "sla-lab"], served);

        var clientAdmin = await users.FindByEmailAsync("admin@northwind.test");
        Assert.Equal((await App.TenantAsync("northwind")).Id, clientAdmin!.TenantId);
        Assert.Equal([Roles.ClientAdmin], await users.GetRolesAsync(clientAdmin));
    }

    [Fact]
    public async Task Staff_serving_all_tenants_serve_a_client_onboarded_later()
    {
        var api = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent2 = await App.UserAsync("agent2@prodesk.test");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.PutAsync($"/api/v1/admin/staff/{agent2.Id}/tenants",
            System.Net.Http.Json.JsonContent.Create(new { tenants = new[] { "*" } }))).StatusCode);

        // Onboarding globex from a seed folder that lists only the provider admin and a new agent, not the "*" staff.
        var seed = Repository.CopySeed();
        foreach (var slug in new[] { "acme", "northwind", "merlion" })
        {
            Directory.Delete(Path.Combine(seed, slug), recursive: true);
        }

        Directory.Move(Path.Combine(seed, "sla-lab"), Path.Combine(seed, "globex"));
        foreach (var file in Directory.GetFiles(Path.Combine(seed, "globex")))
        {
            File.WriteAllText(file, File.ReadAllText(file).Replace("sla-lab", "globex", StringComparison.Ordinal).Replace("+15550100004", "+15550100009", StringComparison.Ordinal));
        }

        File.WriteAllText(Path.Combine(seed, "staff.json"), """
            { "staff": [
              { "email": "admin@prodesk.test", "displayName": "Ada Admin", "role": "ProviderAdmin", "tenants": ["globex"] },
              { "email": "newagent@prodesk.test", "displayName": "New Agent", "role": "Agent", "tenants": ["globex"] }
            ] }
            """);
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var paths = new ProDeskPaths(Repository.AppDirectory, App.DataDirectory, seed);
            Assert.Equal(1, (await ActivatorUtilities.CreateInstance<DemoSeeder>(scope.ServiceProvider, paths).SeedAsync(demoHistory: false)).TenantsCreated);
        }

        var staff = (await api.JsonAsync("/api/v1/admin/staff")).EnumerateArray()
            .ToDictionary(m => m.GetProperty("email").GetString()!, m => m.GetProperty("tenants").EnumerateArray().Select(t => t.GetString()).ToList());
        // "*" in the demo staff.json (admin, supervisor, agent1) and in the staff API (agent2) is every client, present and future.
        foreach (var email in new[] { "admin@prodesk.test", "supervisor@prodesk.test", "agent1@prodesk.test", "agent2@prodesk.test" })
        {
            Assert.Contains("globex", staff[email]);
        }

        Assert.DoesNotContain("globex", staff["agent3@prodesk.test"]);
        Assert.Equal(["globex"], staff["newagent@prodesk.test"]);
        var agent1 = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await agent1.GetAsync("/api/v1/tenants/globex/work-items")).StatusCode);

        // An explicit list is that list, and no longer every future client.
        await api.PutAsync($"/api/v1/admin/staff/{agent2.Id}/tenants", System.Net.Http.Json.JsonContent.Create(new { tenants = new[] { "acme" } }));
        Assert.False((await App.UserAsync("agent2@prodesk.test")).ServesAllTenants);
    }

    [Fact]
    public async Task Queues_and_sla_targets_are_created_inside_their_tenant()
    {
        var queues = await App.InTenantAsync("sla-lab", db => db.Queues.OrderBy(q => q.Key).Select(q => new { q.Key, q.IsDefault }).ToListAsync());
        Assert.Equal(["fast", "slow"], queues.Select(q => q.Key));
        Assert.True(queues.Single(q => q.Key == "fast").IsDefault);
        var fast = await App.InTenantAsync("sla-lab", db => db.SlaPolicies.Where(p => p.QueueKey == "fast").Select(p => p.FirstResponseMinutes).Distinct().ToListAsync());
        Assert.Equal([1], fast);
    }

    [Fact]
    public async Task Demo_secrets_are_refused_in_production()
    {
        var error = await Assert.ThrowsAsync<StartupException>(() => SeedAsync(demoHistory: false, Environments.Production));
        Assert.Contains("demo secrets", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused in Production", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_secrets_still_working_are_named_so_production_can_refuse_to_start_with_them()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var seeder = scope.ServiceProvider.GetRequiredService<DemoSeeder>();
        var working = await seeder.DemoSecretsInUseAsync();
        Assert.Contains(working, w => w.StartsWith("the demo password of ", StringComparison.Ordinal));
        Assert.Contains("the demo secret of acme-integration", working);
        Assert.Contains("a demo channel key of acme", working);

        // Once an operator has changed them, nothing is left to refuse.
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ProDesk.Data.Identity.AppUser>>();
        foreach (var user in users.Users.ToList())
        {
            await users.RemovePasswordAsync(user);
        }

        Assert.DoesNotContain(await seeder.DemoSecretsInUseAsync(), w => w.StartsWith("the demo password of ", StringComparison.Ordinal));
    }

    private sealed class FakeEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "ProDesk.Web";

        public string ContentRootPath { get; set; } = Repository.Root;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
