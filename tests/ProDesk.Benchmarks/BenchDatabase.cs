using System.Security.Cryptography;
using Npgsql;

namespace ProDesk.Benchmarks;

/// <summary>A tenant as the benchmark sees it: its contacts counted by the superuser, past RLS.</summary>
internal sealed record BenchTenant(Guid Id, string Slug, string Name, long Contacts);

/// <summary>The PostgreSQL server the figures come from.</summary>
internal sealed record ServerInfo(string Version, string SharedBuffers, string Fsync, string SynchronousCommit, string Host);

/// <summary>
/// A fresh database for one run, owned by the ordinary role <c>prodesk_bench</c> (NOSUPERUSER,
/// NOBYPASSRLS: the app refuses anything else, and RLS must bind it). The superuser connection
/// creates both, adds bulk rows past RLS, and drops both at the end.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    public const string RoleName = "prodesk_bench";

    private readonly string maintenanceConnectionString;

    private BenchDatabase(string maintenanceConnectionString, string databaseName, string appConnectionString, string adminConnectionString)
    {
        this.maintenanceConnectionString = maintenanceConnectionString;
        DatabaseName = databaseName;
        AppConnectionString = appConnectionString;
        AdminConnectionString = adminConnectionString;
    }

    public string DatabaseName { get; }

    /// <summary>The app's role on the benchmark database: bound by row-level security.</summary>
    public string AppConnectionString { get; }

    /// <summary>The superuser on the benchmark database: row-level security does not apply to it.</summary>
    public string AdminConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string superuserConnectionString, CancellationToken cancellationToken)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Pooling = false };
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var databaseName = $"prodesk_bench_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

        await using (var connection = new NpgsqlConnection(maintenance.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            if (!await ScalarAsync<bool>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken))
            {
                throw new InvalidOperationException(
                    "the benchmark connection must be a PostgreSQL superuser: it creates a role and a database, and its queries are the RLS-bypassed baseline");
            }

            // Identifiers and the password are generated hex, so inlining them is safe (DDL takes no parameters).
            await ExecuteAsync(connection, $"""
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RoleName}') THEN CREATE ROLE {RoleName} LOGIN; END IF;
                END $$;
                ALTER ROLE {RoleName} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '{password}';
                """, cancellationToken);
            await ExecuteAsync(connection, $"CREATE DATABASE \"{databaseName}\" OWNER {RoleName}", cancellationToken);
        }

        var app = new NpgsqlConnectionStringBuilder(superuserConnectionString)
        {
            Username = RoleName,
            Password = password,
            Database = databaseName,
        };
        var admin = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Database = databaseName };
        return new BenchDatabase(maintenance.ConnectionString, databaseName, app.ConnectionString, admin.ConnectionString);
    }

    /// <summary>The connection string with its password masked, for printing.</summary>
    public static string Redact(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.Password))
        {
            builder.Password = "***";
        }

        return builder.ConnectionString;
    }

    public async Task<ServerInfo> ServerInfoAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        return new ServerInfo(
            await ScalarAsync<string>(connection, "SHOW server_version", cancellationToken),
            await ScalarAsync<string>(connection, "SHOW shared_buffers", cancellationToken),
            await ScalarAsync<string>(connection, "SHOW fsync", cancellationToken),
            await ScalarAsync<string>(connection, "SHOW synchronous_commit", cancellationToken),
            connection.Host ?? "?");
    }

    /// <summary>
    /// Adds <paramref name="perTenant"/> contacts to every tenant as the superuser (past RLS), with
    /// unique e-mails per tenant, so that the ("TenantId", "Email") index is what a count walks;
    /// then vacuums and analyses so the planner sees the real sizes and index-only scans apply.
    /// </summary>
    public async Task AddContactsAsync(int perTenant, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO "Contacts" ("Id", "TenantId", "Name", "Email", "Phone", "Company", "CreatedAt")
            SELECT gen_random_uuid(),
                   t."Id",
                   'Bench Contact ' || g,
                   'bench.contact.' || g || '@' || t."Slug" || '-bench.test',
                   CASE WHEN g % 3 = 0 THEN NULL ELSE '+1555' || lpad(g::text, 7, '0') END,
                   CASE WHEN g % 2 = 0 THEN 'Bench Company ' || (g % 997) END,
                   now() - make_interval(mins => g % 525600)
            FROM "Tenants" t
            CROSS JOIN generate_series(1, @perTenant) AS g
            """, connection))
        {
            insert.CommandTimeout = 0;
            insert.Parameters.AddWithValue("perTenant", perTenant);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var vacuum = new NpgsqlCommand("""VACUUM (ANALYZE) "Contacts" """, connection) { CommandTimeout = 0 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The table of scenario C's bare SQL loop: "WorkItems"' columns and indexes, no RLS, no foreign keys.</summary>
    public const string BareClaimTable = "bench_claim_items";

    /// <summary>
    /// Adds <paramref name="count"/> open, unassigned conversations as the superuser (past RLS), spread
    /// evenly over the tenants (each in its default queue), priorities 0..3 independent of the tenant,
    /// distinct creation times; then vacuums and analyses the table. <paramref name="table"/> is
    /// "WorkItems" or <see cref="BareClaimTable"/>, which this creates first as a copy of its shape.
    /// </summary>
    public async Task AddOpenItemsAsync(string table, int count, CancellationToken cancellationToken)
    {
        var quoted = table switch
        {
            "WorkItems" => "\"WorkItems\"",
            BareClaimTable => BareClaimTable,
            _ => throw new ArgumentException($"not a work-item table of the benchmark: {table}", nameof(table)),
        };
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (table == BareClaimTable)
        {
            await ExecuteAsync(connection, $"""
                DROP TABLE IF EXISTS {BareClaimTable};
                CREATE TABLE {BareClaimTable} (LIKE "WorkItems" INCLUDING DEFAULTS INCLUDING INDEXES);
                """, cancellationToken);
        }

        await using (var insert = new NpgsqlCommand($$"""
            WITH queues AS (
                SELECT q."TenantId", q."Id", row_number() OVER (ORDER BY t."Slug") - 1 AS n, count(*) OVER () AS total
                FROM "Queues" q JOIN "Tenants" t ON t."Id" = q."TenantId"
                WHERE q."IsDefault")
            INSERT INTO {{quoted}} ("Id", "TenantId", "Kind", "Status", "Priority", "QueueId", "Subject", "Channel", "ExternalId",
                                   "ContactId", "AssigneeId", "Tags", "CustomFieldsJson", "CreatedAt", "UpdatedAt", "Version", "DueAt")
            SELECT gen_random_uuid(), q."TenantId", 'Conversation', 'Open', ((g / q.total) % 4)::int, q."Id", 'Bench claim item ' || g, 'api', NULL,
                   NULL, NULL, '{}', '{}', now() - make_interval(secs => g), now() - make_interval(secs => g), 0,
                   now() - make_interval(secs => g) + interval '4 hours' 
            FROM generate_series(1, @count) AS g
            JOIN queues q ON q.n = g % q.total
            """, connection))
        {
            insert.CommandTimeout = 0;
            insert.Parameters.AddWithValue("count", count);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) != count)
            {
                throw new InvalidOperationException($"inserting {count} items into {table} did not insert them all (no default queues?)");
            }
        }

        await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {quoted}", connection) { CommandTimeout = 0 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// VACUUM (ANALYZE) of the whole database, as autovacuum does in service. A scenario starts on tables that are nearly
    /// empty (the ledger of inbound mail, the acknowledgments), and a connection's cached plan for them (a
    /// sequential scan of a table of a few rows) stays until the next ANALYZE, however large the table grows:
    /// after the warm-up, the measured loop sees tables with statistics, as a desk in service has. The VACUUM cleans
    /// up what earlier scenarios changed (C's claims updated 120,000 items and their events), so autovacuum working
    /// those off does not land in this scenario's measured minute; what the scenario itself writes, autovacuum handles
    /// while it runs, as in service.
    /// </summary>
    public async Task AnalyzeAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var analyze = new NpgsqlCommand("VACUUM (ANALYZE)", connection) { CommandTimeout = 0 };
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One number from a query run as the superuser (past RLS).</summary>
    public async Task<long> CountAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until the app's outbox relay has published every event,
    /// so a scenario does not pay for the previous one's backlog. Returns the events still waiting.
    /// </summary>
    public async Task<long> WaitForOutboxAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var waiting = await CountAsync("""SELECT count(*) FROM "OutboxEvents" WHERE "PublishedAt" IS NULL""", cancellationToken);
            if (waiting == 0 || clock.Elapsed >= limit)
            {
                return waiting;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    /// <summary>The plan PostgreSQL chooses for a statement, as the superuser or (with a tenant scope) as the app role.</summary>
    public async Task<string> PlanAsync(string statement, IReadOnlyList<Guid>? appRoleScope, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(appRoleScope is null ? AdminConnectionString : AppConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (appRoleScope is not null)
        {
            await using var set = new NpgsqlCommand("SELECT set_config('prodesk.tenant_ids', @ids, false)", connection);
            set.Parameters.AddWithValue("ids", string.Join(',', appRoleScope));
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var explain = new NpgsqlCommand($"EXPLAIN (COSTS OFF) {statement}", connection);
        await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
        var lines = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }

    public async Task<IReadOnlyList<BenchTenant>> TenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT t."Id", t."Slug", t."Name", (SELECT count(*) FROM "Contacts" c WHERE c."TenantId" = t."Id")
            FROM "Tenants" t ORDER BY t."Slug"
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tenants = new List<BenchTenant>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(new BenchTenant(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }

        return tenants;
    }

    /// <summary>Drops the database and the role; a failure here is reported, never thrown over the run's own outcome.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var connection = new NpgsqlConnection(maintenanceConnectionString);
            await connection.OpenAsync();
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", CancellationToken.None);
            try
            {
                await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {RoleName}", CancellationToken.None);
            }
            catch (PostgresException e)
            {
                // Still owns something elsewhere (another run's database): leave the role.
                await Console.Error.WriteLineAsync($"note: role {RoleName} kept: {e.MessageText}");
            }
        }
        catch (NpgsqlException e)
        {
            await Console.Error.WriteLineAsync($"warning: could not drop database {DatabaseName}: {e.Message}");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
