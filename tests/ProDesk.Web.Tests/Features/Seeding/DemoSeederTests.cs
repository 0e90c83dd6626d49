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
