using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Tenancy;
using Respawn;

namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>
/// The one shared app fixture: ProDesk on a real PostgreSQL database of its own, migrated at start.
/// <see cref="ResetAsync"/> empties every table (Respawn, as the superuser, since row-level
/// security would hide other tenants' rows from the app role) and seeds the demo tenants again
/// without demo history, so each test starts from the same known state.
/// </summary>
public class ProDeskApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    private Respawner? _respawner;

    public PostgresServer.TestDatabase Database { get; private set; } = null!;

    /// <summary>The app's data directory (blobs, raw mail, the mail pickup folder), removed with the fixture.</summary>
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("prodesk-web-tests-").FullName;

    /// <summary>The clock the app runs on: the system's here, a test clock in <see cref="SlaApp"/>.</summary>
    protected virtual TimeProvider AppClock => TimeProvider.System;

    public async Task InitializeAsync()
    {
        Database = await PostgresServer.CreateDatabaseAsync();
        _ = Services; // starts the host, which migrates
        await using var admin = new NpgsqlConnection(Database.AdminConnectionString);
        await admin.OpenAsync();
        _respawner = await Respawner.CreateAsync(admin, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            // The node's own key rings live on across resets, as they do across a real deployment's life.
            TablesToIgnore = ["__EFMigrationsHistory", "ServerKeys", "DataProtectionKeys"],
        });
        await SeedAsync();
    }

    /// <summary>Empties the database and seeds the demo tenants and users again.</summary>
    public async Task ResetAsync()
    {
        await using (var admin = new NpgsqlConnection(Database.AdminConnectionString))
        {
            await admin.OpenAsync();
            // Triggers off for the reset: the audit log refuses deletes from everyone else.
            await PostgresServer.Execute(admin, "SET session_replication_role = replica");
            await _respawner!.ResetAsync(admin);
        }

        await SeedAsync();
    }

    public async Task<TenantInfo> TenantAsync(string slug) =>
        await Services.GetRequiredService<ITenantStore>().FindBySlugAsync(slug) ?? throw new InvalidOperationException($"no tenant {slug}");

    /// <summary>Runs <paramref name="work"/> with a fresh DbContext inside <paramref name="scope"/>.</summary>
    public async Task<T> InScopeAsync<T>(TenantScope scope, Func<ProDeskDbContext, Task<T>> work)
    {
        using (TenantScopes.Enter(scope))
        {
            await using var services = Services.CreateAsyncScope();
            return await work(services.ServiceProvider.GetRequiredService<ProDeskDbContext>());
        }
    }

    public async Task<T> InTenantAsync<T>(string slug, Func<ProDeskDbContext, Task<T>> work) =>
        await InScopeAsync(await ScopeAsync(slug), work);

    public async Task<TenantScope> ScopeAsync(params string[] slugs)
    {
        var scopes = Services.GetRequiredService<TenantScopes>();
        var tenants = new List<TenantInfo>();
        foreach (var slug in slugs)
        {
            tenants.Add(await TenantAsync(slug));
        }

        return tenants.Count == 1 ? scopes.ForTenant(tenants[0]) : scopes.ForTenants(tenants, "test");
    }

    public async Task<AppUser> UserAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email) ?? throw new InvalidOperationException($"no user {email}");
    }

    /// <summary>A new personal access token of the user: its id and the secret.</summary>
    public async Task<(Guid Id, string Secret)> PatAsync(string email)
    {
        var user = await UserAsync(email);
        await using var scope = Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<PersonalAccessTokens>().CreateAsync(user, "test");
        return (created.Token.Id, created.Secret);
    }

    public new virtual async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await PostgresServer.DropDatabaseAsync(Database.Name);
        Directory.Delete(DataDirectory, recursive: true);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", "Postgres");
        builder.UseSetting("ConnectionStrings:ProDesk", Database.AppConnectionString);
        builder.UseSetting("ConnectionStrings:Redis", RedisServer.ConnectionString);
        builder.UseSetting("ProDesk:SeedDirectory", Repository.SeedDirectory);
        builder.UseSetting("ProDesk:MigrateOnStart", "true");
        builder.UseSetting("ProDesk:SeedOnStart", "false");
        // Sessions re-read their user on every request, so tests see a password change at once.
        builder.UseSetting("Identity:SessionRecheckSeconds", "0");
        builder.UseSetting("Identity:SignInRequestsPerMinute", "10000");
        // Every test posts from the same (test server) address; WebFormTests lowers it on a host of its own.
        builder.UseSetting("WebForm:PerIpLimit", "10000");
        // Integration clients keep their client id across resets, so the whole run would share one API allowance (the
        // isolation tests sweep every route with one); RateLimitTests lowers it on hosts of their own.
        builder.UseSetting("Api:RateLimit:PermitsPerMinute", "100000");
        builder.UseSetting("Api:RateLimit:Burst", "100000");
        // Demo users are re-created on every reset: hash their passwords cheaply in tests.
        builder.ConfigureServices(services => services.Configure<PasswordHasherOptions>(o => o.IterationCount = 1_000));
        builder.ConfigureServices(services => services.AddSingleton(AppClock));
        // Tests fire SLA timers themselves (SlaSweeper.SweepOnceAsync) after moving the clock,
        // and send outbound messages themselves (OutboundDispatcher.SendDueAsync).
        builder.UseSetting("Sla:Sweeper", "false");
        builder.UseSetting("Channels:Dispatcher", "false");
        // Mailboxes are polled by the tests (MailboxPolling.RunAsync); the IDLE watcher has a test of its own.
        builder.UseSetting("Email:Watch", "false");
        builder.UseSetting("Email:PollEveryMinute", "false");
        // Blobs and raw mail go to a folder of this fixture's own, not the repository's data/.
        builder.UseSetting("ProDesk:DataDirectory", DataDirectory);
    }

    private async Task SeedAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(demoHistory: false);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<ProDeskApp>
{
    public const string Name = "postgres";
}

/// <summary>Base for tests on the shared app: each test starts from a freshly reset database.</summary>
[Collection(PostgresCollection.Name)]
public abstract class PostgresTest(ProDeskApp app) : IAsyncLifetime
{
    protected ProDeskApp App { get; } = app;

    public virtual Task InitializeAsync() => App.ResetAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The app on a test clock that stands still unless a test moves it, with a database of its own, so
/// SLA deadlines and timers can be checked to the second without sleeping. Starts on a Monday 08:00 UTC.
/// </summary>
public sealed class SlaApp : ProDeskApp
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));

    protected override TimeProvider AppClock => Clock;
}

[CollectionDefinition(Name)]
public sealed class SlaCollection : ICollectionFixture<SlaApp>
{
    public const string Name = "sla";
}

/// <summary>Base for SLA tests: each starts from a freshly reset database; the clock only moves forward.</summary>
[Collection(SlaCollection.Name)]
public abstract class SlaTest(SlaApp app) : IAsyncLifetime
{
    protected SlaApp App { get; } = app;

    public virtual Task InitializeAsync() => App.ResetAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;
}
