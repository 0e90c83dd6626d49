using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProDesk.Data;
using ProDesk.Data.Tenancy;
using ProDesk.Migrations.Postgres;
using ProDesk.Migrations.Sqlite;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Hosting;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Which database, resolved and checked once at start. <see cref="ContextConnectionString"/> is what the
/// DbContext uses; jobs and the migrator use <see cref="ConnectionString"/>.
/// </summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString, string ContextConnectionString)
{
    public DatabaseSettings(DatabaseProvider provider, string connectionString)
        : this(provider, connectionString, connectionString)
    {
    }
}

public static class DataExtensions
{
    /// <summary>
    /// Connections per node to PostgreSQL unless the connection string says otherwise (Maximum Pool Size):
    /// 32, or 4 per core on a larger machine, so Hangfire's workers (2 per core) never hold the whole pool.
    /// </summary>
    public static int DefaultMaxPoolSize => Math.Max(32, Environment.ProcessorCount * 4);

    public static void AddData(this WebApplicationBuilder builder)
    {
        var paths = ProDeskPaths.From(builder);
        var settings = ReadSettings(builder.Configuration, paths);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<TenantSaveGuard>();
        builder.Services.AddSingleton(new RowLevelSecurityInterceptor(PostgresProvider.SessionOf));

        // Pooled: a request reuses a reset context instead of building it, its options and its internal services
        // again (about a quarter of ingestion's throughput). The tenant scope travels in the options (decision 38).
        builder.Services.AddDbContextPool<ProDeskDbContext>((services, options) =>
        {
            options.UseTenantScope(services.GetRequiredService<ICurrentTenantIds>());
            if (settings.Provider == DatabaseProvider.Postgres)
            {
                PostgresProvider.Use(options, settings.ContextConnectionString);
                options.AddInterceptors(services.GetRequiredService<RowLevelSecurityInterceptor>());
            }
            else
            {
                SqliteProvider.Use(options, settings.ConnectionString);
            }

            options.AddInterceptors(services.GetRequiredService<TenantSaveGuard>());
            // A user's changed stamp reaches open hub connections at once (registered by AddRealtime).
            options.AddInterceptors(services.GetRequiredService<RecheckOnUserChange>());
        });

        builder.Services.AddScoped<DemoSeeder>();
        builder.Services.AddScoped<DatabaseMigrator>();
    }

    /// <summary>Checks the database role, then migrates and seeds where configured (by default in Development).</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var migrate = app.Configuration.GetValue("ProDesk:MigrateOnStart", app.Environment.IsDevelopment());
        var seed = app.Configuration.GetValue("ProDesk:SeedOnStart", app.Environment.IsDevelopment());
        await using var scope = app.Services.CreateAsyncScope();
        var migrator = scope.ServiceProvider.GetRequiredService<DatabaseMigrator>();
        await migrator.EnsureSafeRoleAsync();
        if (migrate || seed)
        {
            await using var onlyUs = await PreparationLock.HoldAsync(app.Services.GetRequiredService<ProDeskPaths>().DataDirectory, app.Services.GetRequiredService<TimeProvider>());
            if (migrate)
            {
                await migrator.MigrateAsync();
            }

            if (seed)
            {
                await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(demoHistory: true);
            }
        }
        else if ((await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().Database.GetPendingMigrationsAsync()).LastOrDefault() is { } pending)
        {
            // Said once, before the first query of a missing table fails with a page of errors.
            throw new StartupException($"the database is not migrated (up to {pending} is missing): run the migrate verb first, or set ProDesk:MigrateOnStart=true");
        }
    }

    /// <summary>
    /// The web host in Production does not start while the seed's demo secrets still work in its database (CONTRACT.md:
    /// demo values are refused in Production). The command-line verbs still run, so an operator can look and migrate.
    /// </summary>
    public static async Task RefuseDemoSecretsInProductionAsync(this WebApplication app)
    {
        if (!app.Environment.IsProduction())
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<DemoSeeder>().DemoSecretsInUseAsync() is { Count: > 0 } demo)
        {
            throw new StartupException($"demo secrets from {app.Services.GetRequiredService<ProDeskPaths>().SeedDirectory} still work in this database " +
                $"({string.Join("; ", demo)}), and demo values are refused in Production: change them first (verbs `clients rotate --tenant SLUG` and `channels rotate --tenant SLUG --key inbound|widget`; a demo password on the account page)");
        }
    }

    private static DatabaseSettings ReadSettings(ConfigurationManager configuration, ProDeskPaths paths)
    {
        var providerText = configuration["Database:Provider"];
        if (string.IsNullOrWhiteSpace(providerText))
        {
            providerText = nameof(DatabaseProvider.Sqlite);
        }

        if (!EnumNames.TryParse<DatabaseProvider>(providerText, ignoreCase: true, out var provider))
        {
            throw new StartupException($"Database:Provider '{providerText}' is not one of Sqlite, Postgres");
        }

        var connectionString = configuration.GetConnectionString("ProDesk");
        if (provider == DatabaseProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new StartupException("ConnectionStrings:ProDesk is required when Database:Provider is Postgres");
            }

            NpgsqlConnectionStringBuilder parsed;
            try
            {
                parsed = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException e)
            {
                throw new StartupException($"ConnectionStrings:ProDesk is not a valid PostgreSQL connection string: {e.Message}", e);
            }

            // Row-level security reads a session setting the app sets per connection checkout: multiplexing shares
            // one session among many callers' commands, so the setting could be another request's.
            if (parsed.Multiplexing)
            {
                throw new StartupException("ConnectionStrings:ProDesk must not turn on Multiplexing: the tenant scope lives in the session, which multiplexing shares between requests.");
            }

            // Hot statements (ingestion's inserts, the claim, the token check) are prepared once per
            // physical connection instead of parsed and planned on every call (ARCHITECTURE.md decision 16).
            // An operator's own setting wins; behind a transaction-pooling proxy set Max Auto Prepare=0.
            if (!Names(connectionString, "AutoPrepare"))
            {
                parsed.MaxAutoPrepare = 256;
                parsed.AutoPrepareMinUsages = 2;
            }

            // A few busy connections beat many: past about twice the database's cores, more concurrent
            // statements only queue on its CPUs and contend for locks (decision 32). Npgsql's default of 100
            // cost a third of ingestion's throughput on a two-core server against a pool of 12 to 32.
            if (!Names(connectionString, "PoolSize"))
            {
                parsed.MaxPoolSize = DefaultMaxPoolSize;
            }

            // The DbContext's connections skip Npgsql's session reset on return to the pool (seven
            // statements on every checkout: a tenth of the claim's database time). Safe because the
            // only session state the app leaves is the tenant scope, and RowLevelSecurityInterceptor
            // sets that before any command (remembering it per session, decision 43); open transactions are
            // still rolled back. Jobs (Hangfire) keep the reset, in a pool of their own (decision 33).
            var forJobs = parsed.ConnectionString;
            if (!Names(connectionString, "ResetOnClose"))
            {
                parsed.NoResetOnClose = true;
            }

            return new DatabaseSettings(provider, forJobs, parsed.ConnectionString);
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                PrivateFiles.CreateDirectory(paths.DataDirectory);
                // SQLite creates the database under the umask (0644) and gives its journal and WAL the database's mode:
                // an empty file made owner-only first is a new database to it, and keeps all three private.
                PrivateFiles.Open(paths.SqliteFile, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite).Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartupException($"ProDesk__DataDirectory '{paths.DataDirectory}' cannot be used: {e.Message}", e);
            }

            connectionString = $"Data Source={paths.SqliteFile}";
        }

        return new DatabaseSettings(provider, connectionString);
    }

    /// <summary>Whether the operator's connection string sets a key containing <paramref name="word"/>, however spaced ("No Reset On Close", "NoResetOnClose").</summary>
    private static bool Names(string connectionString, string word) =>
        connectionString.Replace(" ", "", StringComparison.Ordinal).Contains(word, StringComparison.OrdinalIgnoreCase);
}
