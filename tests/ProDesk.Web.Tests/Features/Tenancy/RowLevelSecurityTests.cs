using System.Data.Common;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.Tenancy;
using ProDesk.Migrations.Postgres;
using ProDesk.Web.Data;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

/// <summary>
/// The second wall: PostgreSQL row-level security, enabled and forced on every tenant-owned table.
/// A bug in a query filter (simulated by switching the filter off, or by raw SQL) must still leak nothing.
/// </summary>
public sealed class RowLevelSecurityTests(ProDeskApp app) : PostgresTest(app)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        foreach (var (slug, names) in new[] { ("acme", new[] { "Amélie", "Bastien" }), ("northwind", ["Nora", "Ned", "Nate"]) })
        {
            await App.InTenantAsync(slug, async db =>
            {
                db.Contacts.AddRange(names.Select(n => new Contact { Id = Guid.CreateVersion7(), Name = n, Email = $"{n.ToLowerInvariant()}@{slug}.example" }));
                return await db.SaveChangesAsync();
            });
        }
    }

    [Fact]
    public async Task With_the_query_filter_switched_off_a_query_still_returns_only_the_current_tenants_rows()
    {
        var names = await App.InTenantAsync("acme", db =>
            db.Contacts.IgnoreQueryFilters([ProDeskDbContext.TenantFilter]).OrderBy(c => c.Name).Select(c => c.Name).ToListAsync());
        Assert.Equal(["Amélie", "Bastien"], names);
    }

    [Fact]
    public async Task Raw_sql_sees_only_the_current_tenants_rows()
    {
        var acme = await App.InTenantAsync("acme", db => db.Database.SqlQueryRaw<string>("""SELECT "Name" AS "Value" FROM "Contacts" ORDER BY 1""").ToListAsync());
        var northwind = await App.InTenantAsync("northwind", db => db.Database.SqlQueryRaw<string>("""SELECT "Name" AS "Value" FROM "Contacts" ORDER BY 1""").ToListAsync());
        Assert.Equal(["Amélie", "Bastien"], acme);
        Assert.Equal(["Nate", "Ned", "Nora"], northwind);
    }

    [Fact]
    public async Task Raw_sql_without_a_tenant_scope_sees_nothing()
    {
        await using var services = App.Services.CreateAsyncScope();
        var db = services.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        Assert.Equal(0, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
    }

    [Fact]
    public async Task A_pooled_connection_that_served_a_tenant_carries_no_scope_into_the_next_use_without_one()
    {
        // The DbContext's pool skips Npgsql's session reset, so clearing the scope is the interceptor's job
        // alone. A pool of one connection makes the second context get the first one's backend.
        var settings = App.Services.GetRequiredService<DatabaseSettings>();
        var pool = new NpgsqlConnectionStringBuilder(settings.ContextConnectionString) { MaxPoolSize = 1, ApplicationName = "rls-pool-test" };
        Assert.True(pool.NoResetOnClose);
        DbContextOptions<ProDeskDbContext> Options(ICurrentTenantIds scope) => (DbContextOptions<ProDeskDbContext>)PostgresProvider
            .Use(new DbContextOptionsBuilder<ProDeskDbContext>(), pool.ConnectionString)
            .AddInterceptors(App.Services.GetRequiredService<RowLevelSecurityInterceptor>()).UseTenantScope(scope).Options;
        var acme = await App.TenantAsync("acme");

        await using var scoped = new ProDeskDbContext(Options(new FixedTenants([acme.Id])));
        var first = await scoped.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync();
        await scoped.DisposeAsync();
        await using var unscoped = new ProDeskDbContext(Options(NoTenants.Instance));
        var next = await unscoped.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync();

        Assert.Equal(2, first.Count);
        Assert.Equal(first.Backend, next.Backend);
        Assert.Equal(0, next.Count);
    }

    [Fact]
    public async Task The_interceptor_remembers_the_scope_per_physical_session_so_each_context_still_sees_only_its_tenants()
    {
        // One backend for every context below: the interceptor skips set_config where the session already
        // carries the wanted scope, and a token lookup (no RLS tables) leaves the session as it is.
        var (options, acmeId, northwindId) = await OneBackendAsync("rls-session-test");
        async Task<BackendAndCount> CountAsync(ICurrentTenantIds scope, bool afterTokenLookup = false)
        {
            await using var db = new ProDeskDbContext(options(scope));
            if (afterTokenLookup)
            {
                using (db.OnTablesWithoutRowLevelSecurity())
                {
                    await db.Users.CountAsync();
                }
            }

            return await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync();
        }

        var acme = new FixedTenants([acmeId]);
        var northwind = new FixedTenants([northwindId]);
        var results = new[]
        {
            await CountAsync(acme),
            await CountAsync(acme, afterTokenLookup: true),
            await CountAsync(northwind, afterTokenLookup: true),
            await CountAsync(acme),
            await CountAsync(NoTenants.Instance, afterTokenLookup: true),
            await CountAsync(northwind),
        };

        Assert.Single(results.Select(r => r.Backend).Distinct());
        Assert.Equal([2, 2, 3, 2, 0, 3], results.Select(r => r.Count));
    }

    [Fact]
    public async Task Two_hosts_in_one_process_share_the_pools_sessions_and_neither_trusts_a_scope_the_other_changed()
    {
        // Npgsql's pool is the process's: a second host (tests make several) gets the same backend.
        var (first, acmeId, northwindId) = await OneBackendAsync("rls-two-hosts");
        var (second, _, _) = await OneBackendAsync("rls-two-hosts", interceptor: new RowLevelSecurityInterceptor(PostgresProvider.SessionOf));
        async Task<BackendAndCount> CountAsync(Func<ICurrentTenantIds, DbContextOptions<ProDeskDbContext>> options, Guid tenant)
        {
            await using var db = new ProDeskDbContext(options(new FixedTenants([tenant])));
            return await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync();
        }

        var results = new[] { await CountAsync(first, acmeId), await CountAsync(second, northwindId), await CountAsync(first, acmeId) };

        Assert.Single(results.Select(r => r.Backend).Distinct());
        Assert.Equal([2, 3, 2], results.Select(r => r.Count));
    }

    [Fact]
    public async Task Where_the_operator_lets_the_pool_reset_sessions_every_context_still_sets_its_scope()
    {
        // No Reset On Close=false: Npgsql's reset (RESET ALL) clears the setting whenever a connection goes back.
        var (options, acmeId, _) = await OneBackendAsync("rls-reset-test", resetsSessions: true);
        var counts = new List<BackendAndCount>();
        for (var i = 0; i < 3; i++)
        {
            await using var db = new ProDeskDbContext(options(new FixedTenants([acmeId])));
            counts.Add(await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync());
        }

        Assert.Single(counts.Select(c => c.Backend).Distinct());
        Assert.All(counts, c => Assert.Equal(2, c.Count));
    }

    [Fact]
    public async Task A_scope_set_inside_a_transaction_that_never_commits_is_not_trusted_afterwards()
    {
        // A background pass may switch tenants inside a transaction and then dispose it without a commit:
        // PostgreSQL puts the earlier setting back, and the next context on that backend must not skip setting its own.
        var (options, acme, northwind) = await OneBackendAsync("rls-tx-test");
        var switching = new SwitchingTenants { TenantIds = [acme] };

        await using (var first = new ProDeskDbContext(options(switching)))
        {
            await first.Database.OpenConnectionAsync();
            await first.Database.ExecuteSqlRawAsync("SELECT 1"); // a command of its own sets acme, outside any transaction
            await using (await first.Database.BeginTransactionAsync())
            {
                switching.TenantIds = [northwind];
                Assert.Equal(3, (await first.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
            } // disposed, never committed: the session is back on acme

            await first.Database.CloseConnectionAsync();
        }

        await using var next = new ProDeskDbContext(options(new FixedTenants([northwind])));
        Assert.Equal(3, (await next.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
    }

    [Fact]
    public async Task A_scope_set_in_an_abandoned_transaction_is_not_trusted_by_the_next_transaction_on_that_connection()
    {
        // Npgsql hands the same transaction object to the next BeginTransaction on a physical connection.
        var (options, acme, northwind) = await OneBackendAsync("rls-tx-reuse-test");
        async Task<int> SwitchInsideATransactionAsync(bool commit)
        {
            var switching = new SwitchingTenants { TenantIds = [acme] };
            await using var db = new ProDeskDbContext(options(switching));
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("SELECT 1"); // a command of its own sets acme, outside any transaction
            await using var transaction = await db.Database.BeginTransactionAsync();
            switching.TenantIds = [northwind];
            var count = (await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count;
            if (commit)
            {
                await transaction.CommitAsync();
            }

            return count;
        }

        Assert.Equal(3, await SwitchInsideATransactionAsync(commit: false)); // disposed, never committed
        Assert.Equal(3, await SwitchInsideATransactionAsync(commit: true));
    }

    [Fact]
    public async Task A_commit_that_postgresql_turned_into_a_rollback_does_not_leave_the_scope_set_inside_it_trusted()
    {
        var (options, acme, northwind) = await OneBackendAsync("rls-aborted-test");
        var switching = new SwitchingTenants { TenantIds = [acme] };
        await using (var first = new ProDeskDbContext(options(switching)))
        {
            await first.Database.OpenConnectionAsync();
            await first.Database.ExecuteSqlRawAsync("SELECT 1"); // a command of its own sets acme, outside any transaction
            await using var transaction = await first.Database.BeginTransactionAsync();
            switching.TenantIds = [northwind];
            Assert.Equal(3, (await first.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
            await Assert.ThrowsAsync<PostgresException>(() => first.Database.ExecuteSqlRawAsync("SELECT 1/0"));
            await transaction.CommitAsync(); // answered as a rollback: the session is back on acme
        }

        await using var next = new ProDeskDbContext(options(new FixedTenants([northwind])));
        Assert.Equal(3, (await next.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
    }

    [Fact]
    public async Task A_query_that_fails_while_its_rows_stream_takes_the_scope_it_brought_back_with_it()
    {
        // A query on a session without its scope sends the set_config first in its own command (decision 72): one
        // implicit transaction, which the failure rolls back, so the session is on northwind again, not on acme.
        var (options, acme, northwind) = await OneBackendAsync("rls-scope-first-test");
        await using (var db = new ProDeskDbContext(options(new FixedTenants([northwind]))))
        {
            await db.Database.ExecuteSqlRawAsync("SELECT 1"); // a command of its own: northwind, and known to be
        }

        await using (var db = new ProDeskDbContext(options(new FixedTenants([acme]))))
        {
            var failing = db.Database.SqlQueryRaw<int>("""SELECT CASE WHEN n < 3 THEN n ELSE 1 / (n - 3) END AS "Value" FROM generate_series(1, 5) AS n""");
            await Assert.ThrowsAsync<PostgresException>(() => failing.ToListAsync());
            Assert.Equal(2, (await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
        }

        await using (var db = new ProDeskDbContext(options(new FixedTenants([northwind]))))
        {
            Assert.Equal(3, (await db.Database.SqlQueryRaw<BackendAndCount>(CountOnBackend).SingleAsync()).Count);
            Assert.Equal(3, await db.Contacts.IgnoreQueryFilters([ProDeskDbContext.TenantFilter]).CountAsync());
        }
    }

    [Fact]
    public async Task A_query_on_a_session_without_its_scope_sets_it_in_the_same_round_trip()
    {
        var (options, acme, northwind) = await OneBackendAsync("rls-one-trip-test");
        await using (var db = new ProDeskDbContext(options(new FixedTenants([northwind]))))
        {
            await db.Database.ExecuteSqlRawAsync("SELECT 1");
        }

        var sent = new SentCommands();
        var logged = new DbContextOptionsBuilder<ProDeskDbContext>(options(new FixedTenants([acme]))).AddInterceptors(sent).Options;
        await using var acmeDb = new ProDeskDbContext(logged);
        var names = await acmeDb.Contacts.IgnoreQueryFilters([ProDeskDbContext.TenantFilter]).OrderBy(c => c.Name).Select(c => c.Name).ToListAsync();

        Assert.Equal(["Amélie", "Bastien"], names);
        var command = Assert.Single(sent.Texts);
        Assert.Contains("SELECT set_config('prodesk.tenant_ids'", command, StringComparison.Ordinal);
        Assert.Contains("FROM \"Contacts\"", command, StringComparison.Ordinal);
    }

    /// <summary>The text of each query as it went to PostgreSQL, after the interceptors added before this one.</summary>
    private sealed class SentCommands : DbCommandInterceptor
    {
        public List<string> Texts { get; } = [];

        public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command,
            CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
        {
            Texts.Add(command.CommandText);
            return ValueTask.FromResult(result);
        }
    }

    /// <summary>Options for contexts that all get the same backend (a pool of one, resetting sessions on return or not), and the two tenants' ids.</summary>
    /// <param name="interceptor">Another host's interceptor (a second app in the process); the app's own by default.</param>
    private async Task<(Func<ICurrentTenantIds, DbContextOptions<ProDeskDbContext>> Options, Guid Acme, Guid Northwind)> OneBackendAsync(
        string name, bool resetsSessions = false, RowLevelSecurityInterceptor? interceptor = null)
    {
        var settings = App.Services.GetRequiredService<DatabaseSettings>();
        var pool = new NpgsqlConnectionStringBuilder(settings.ContextConnectionString) { MaxPoolSize = 1, ApplicationName = name, NoResetOnClose = !resetsSessions }.ConnectionString;
        interceptor ??= App.Services.GetRequiredService<RowLevelSecurityInterceptor>();
        return (scope => (DbContextOptions<ProDeskDbContext>)PostgresProvider.Use(new DbContextOptionsBuilder<ProDeskDbContext>(), pool)
                .AddInterceptors(interceptor).UseTenantScope(scope).Options,
            (await App.TenantAsync("acme")).Id, (await App.TenantAsync("northwind")).Id);
    }

    [Fact]
    public async Task The_session_identity_is_one_per_physical_connection_and_follows_it_through_the_pool()
    {
        var settings = App.Services.GetRequiredService<DatabaseSettings>();
        var pool = new NpgsqlConnectionStringBuilder(settings.ContextConnectionString) { MaxPoolSize = 2, ApplicationName = "rls-identity-test" }.ConnectionString;
        async Task<int> PidAsync(NpgsqlConnection c)
        {
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", c);
            return (int)(await command.ExecuteScalarAsync())!;
        }

        await using var first = new NpgsqlConnection(pool);
        await using var second = new NpgsqlConnection(pool);
        await first.OpenAsync();
        await second.OpenAsync();
        var sessions = new Dictionary<int, object> { [await PidAsync(first)] = PostgresProvider.SessionOf(first), [await PidAsync(second)] = PostgresProvider.SessionOf(second) };
        Assert.Equal(2, sessions.Count);
        Assert.NotSame(sessions.Values.First(), sessions.Values.Last());
        await first.CloseAsync();
        await second.CloseAsync();

        for (var i = 0; i < 4; i++)
        {
            await using var again = new NpgsqlConnection(pool);
            await again.OpenAsync();
            Assert.Same(sessions[await PidAsync(again)], PostgresProvider.SessionOf(again));
        }
    }

    [Fact]
    public async Task A_row_of_a_work_item_cannot_name_another_tenant_than_its_item_even_past_row_level_security()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var item = await (await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "a@example.fr", subject = "s", body = "b", externalId = "fk-1" }))
            .Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var northwind = await App.TenantAsync("northwind");
        await using var admin = new NpgsqlConnection(App.Database.AdminConnectionString);
        await admin.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => PostgresServer.Execute(admin, $"""
            INSERT INTO "WorkItemChanges" ("TenantId", "WorkItemId", "At", "Field", "To")
            VALUES ('{northwind.Id}', '{item.GetProperty("id").GetGuid()}', now(), 'status', 'Closed')
            """));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, error.SqlState);
    }

    [Fact]
    public async Task Raw_sql_cannot_insert_a_row_for_another_tenant()
    {
        var northwind = await App.TenantAsync("northwind");
        var error = await Assert.ThrowsAsync<PostgresException>(() => App.InTenantAsync("acme", db =>
            db.Database.ExecuteSqlAsync($"""INSERT INTO "Contacts" ("Id", "TenantId", "Name", "CreatedAt") VALUES ({Guid.NewGuid()}, {northwind.Id}, 'Intruder', now())""")));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.Equal(3, await CountAsSuperuserAsync(northwind.Id));
    }

    [Fact]
    public async Task Raw_sql_cannot_change_or_delete_another_tenants_rows()
    {
        var northwind = await App.TenantAsync("northwind");
        var updated = await App.InTenantAsync("acme", db => db.Database.ExecuteSqlRawAsync("""UPDATE "Contacts" SET "Name" = 'Hijacked'"""));
        var deleted = await App.InTenantAsync("acme", db => db.Database.ExecuteSqlAsync($"""DELETE FROM "Contacts" WHERE "TenantId" = {northwind.Id}"""));

        Assert.Equal(2, updated); // acme's own two rows, nobody else's
        Assert.Equal(0, deleted);
        Assert.Equal(3, await CountAsSuperuserAsync(northwind.Id));
        Assert.Equal(0L, await PostgresServer.Scalar<long>(App.Database.AdminConnectionString,
            $"""SELECT count(*) FROM "Contacts" WHERE "TenantId" = '{northwind.Id}' AND "Name" = 'Hijacked'"""));
    }

    [Fact]
    public async Task A_scope_entered_while_a_transaction_holds_the_connection_applies_to_the_next_command()
    {
        var acmeScope = await App.ScopeAsync("acme");
        var northwindScope = await App.ScopeAsync("northwind");
        await using var services = App.Services.CreateAsyncScope();
        var db = services.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();

        using (TenantScopes.Enter(acmeScope))
        {
            Assert.Equal(2, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
        }

        using (TenantScopes.Enter(northwindScope))
        {
            Assert.Equal(3, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
        }

        Assert.Equal(0, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
    }

    [Fact]
    public async Task After_a_rollback_undoes_the_setting_the_scope_is_set_again()
    {
        var acmeScope = await App.ScopeAsync("acme");
        await using var services = App.Services.CreateAsyncScope();
        var db = services.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        using (TenantScopes.Enter(acmeScope))
        {
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("SELECT 1"); // a command of its own sets acme, outside any transaction
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                using (TenantScopes.Enter(TenantScope.None))
                {
                    // set_config inside the transaction: none
                    Assert.Equal(0, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
                }

                await transaction.RollbackAsync(); // PostgreSQL restores the session setting to acme
            }

            Assert.Equal(2, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
            using (TenantScopes.Enter(TenantScope.None))
            {
                // The interceptor must not trust its memory of "none" after the rollback put acme back.
                Assert.Equal(0, await db.Database.SqlQueryRaw<int>("""SELECT count(*)::int AS "Value" FROM "Contacts" """).SingleAsync());
            }

            await db.Database.CloseConnectionAsync();
        }
    }

    [Fact]
    public async Task Every_tenant_owned_table_has_row_level_security_enabled_and_forced_with_the_policy()
    {
        await using var services = App.Services.CreateAsyncScope();
        var tables = ProDeskDbContext.TenantOwnedTables(services.ServiceProvider.GetRequiredService<ProDeskDbContext>().Model).ToList();
        Assert.Contains("Contacts", tables);

        var missing = new List<string>();
        foreach (var table in tables)
        {
            var guarded = await PostgresServer.Scalar<bool>(App.Database.AdminConnectionString, $"""
                SELECT c.relrowsecurity AND c.relforcerowsecurity
                       AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = '{RowLevelSecurity.PolicyName}')
                FROM pg_class c WHERE c.relname = '{table}' AND c.relnamespace = 'public'::regnamespace
                """);
            if (!guarded)
            {
                missing.Add(table);
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public async Task The_app_connects_as_an_ordinary_role_that_owns_the_tables()
    {
        var owner = await PostgresServer.Scalar<string>(App.Database.AdminConnectionString,
            """SELECT tableowner::text FROM pg_tables WHERE tablename = 'Contacts' """);
        Assert.Equal(PostgresServer.AppRole, owner);
        Assert.False(await PostgresServer.Scalar<bool>(App.Database.AdminConnectionString,
            $"SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '{PostgresServer.AppRole}'"));
    }

    [Theory]
    [InlineData("SUPERUSER")]
    [InlineData("NOSUPERUSER BYPASSRLS")]
    public async Task A_role_that_would_skip_row_level_security_is_refused_at_start(string attributes)
    {
        var role = $"prodesk_unsafe_{Guid.NewGuid():N}"[..28];
        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await PostgresServer.Execute(admin, $"CREATE ROLE {role} LOGIN PASSWORD 'x' {attributes}");
        }

        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(App.Database.AppConnectionString) { Username = role, Password = "x", Pooling = false }.ConnectionString;
            var migrator = new DatabaseMigrator(null!, new DatabaseSettings(DatabaseProvider.Postgres, connectionString), Microsoft.Extensions.Logging.Abstractions.NullLogger<DatabaseMigrator>.Instance);
            var error = await Assert.ThrowsAsync<StartupException>(() => migrator.EnsureSafeRoleAsync());
            Assert.Contains($"'{role}' is a superuser or has BYPASSRLS", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
            await admin.OpenAsync();
            await PostgresServer.Execute(admin, $"DROP ROLE {role}");
        }
    }

    private Task<long> CountAsSuperuserAsync(Guid tenantId) =>
        PostgresServer.Scalar<long>(App.Database.AdminConnectionString, $"""SELECT count(*) FROM "Contacts" WHERE "TenantId" = '{tenantId}'""");

    private const string CountOnBackend = """SELECT pg_backend_pid() AS "Backend", (SELECT count(*)::int FROM "Contacts") AS "Count" """;

    private sealed class SwitchingTenants : ICurrentTenantIds
    {
        public IReadOnlyList<Guid> TenantIds { get; set; } = [];
    }

    private sealed class FixedTenants(IReadOnlyList<Guid> ids) : ICurrentTenantIds
    {
        public IReadOnlyList<Guid> TenantIds => ids;
    }

    private sealed class BackendAndCount
    {
        public int Backend { get; set; }

        public int Count { get; set; }
    }
}
