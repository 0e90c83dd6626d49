using Npgsql;
using NpgsqlTypes;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>
/// Scenario B: what row-level security costs on a tenant-scoped query. The same per-tenant count of
/// "Contacts", for a random tenant each time, three ways:
/// the superuser with <c>WHERE "TenantId" = @id</c> (RLS does not apply: the baseline);
/// the app's role, setting <c>prodesk.tenant_ids</c> and then counting with no WHERE at all, so the
/// policy alone restricts the rows, in two round trips (as the app's interceptor does for a save or a command
/// other than a query); and the same two statements sent as one batch, which leaves the policy's own cost (as the
/// interceptor sends a query on a session that lacks its scope, decision 72).
/// Every count is checked against the superuser's, so a wrong answer is an error, not a fast one.
/// </summary>
internal sealed record RlsFindings(IReadOnlyList<LoadResult> Results, string BaselinePlan, string RlsPlan);

internal static class RlsCount
{
    public const string Title = "B. RLS cost on a tenant-scoped query";

    public const string Baseline = "superuser, WHERE \"TenantId\" = @id (RLS bypassed)";
    public const string TwoTrips = "app role, RLS: set_config, then count (2 round trips)";
    public const string Batched = "app role, RLS: set_config + count in one batch (1 round trip, as the app sends a query)";

    private const string CountOfTenant = """SELECT count(*) FROM "Contacts" WHERE "TenantId" = @id""";
    private const string CountVisible = """SELECT count(*) FROM "Contacts" """;
    private const string SetTenants = "SELECT set_config('prodesk.tenant_ids', @ids, false)";

    public static async Task<RlsFindings> RunAsync(
        BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        await using var appRole = DataSource(database.AppConnectionString, options.Concurrency);
        await using var superuser = DataSource(database.AdminConnectionString, options.Concurrency);
        await VerifyIsolationAsync(appRole, tenants, cancellationToken);
        var baselinePlan = await PlanAsync(superuser, null, CountOfTenant.Replace("@id", $"'{tenants[0].Id}'", StringComparison.Ordinal), cancellationToken);
        var rlsPlan = await PlanAsync(appRole, tenants[0].Id, CountVisible, cancellationToken);

        var pool = tenants.ToArray();
        var variants = new (string Name, Func<int, CancellationToken, Task<ILoadWorker>> Create)[]
        {
            (Baseline, (_, ct) => BaselineWorker.CreateAsync(superuser, pool, ct)),
            (TwoTrips, (_, ct) => RlsWorker.CreateAsync(appRole, pool, batched: false, ct)),
            (Batched, (_, ct) => RlsWorker.CreateAsync(appRole, pool, batched: true, ct)),
        };

        var results = new List<LoadResult>();
        foreach (var (name, create) in variants)
        {
            if (options.Warmup > TimeSpan.Zero)
            {
                await LoadLoop.RunAsync("warm-up", options.Concurrency, options.Warmup, create, cancellationToken);
            }

            var result = await LoadLoop.RunAsync(name, options.Concurrency, options.Duration, create, cancellationToken);
            Console.WriteLine($"  {result.Summary}");
            results.Add(result);
        }

        return new RlsFindings(results, baselinePlan, rlsPlan);
    }

    /// <summary>PostgreSQL's plan for one of the counts, so RESULTS.md shows what was measured.</summary>
    private static async Task<string> PlanAsync(NpgsqlDataSource source, Guid? scope, string query, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        if (scope is { } id)
        {
            await using var set = new NpgsqlCommand(SetTenants, connection);
            set.Parameters.AddWithValue("ids", id.ToString());
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var explain = new NpgsqlCommand($"EXPLAIN (COSTS OFF) {query}", connection);
        await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
        var lines = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }

    private static NpgsqlDataSource DataSource(string connectionString, int concurrency) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = "prodesk-bench",
            MaxPoolSize = concurrency + 2,
        });

    /// <summary>
    /// The measurement means nothing unless RLS binds the app role: it is an ordinary role, sees
    /// nothing without a scope, exactly its tenant's rows with one, and none of another tenant's.
    /// </summary>
    private static async Task VerifyIsolationAsync(NpgsqlDataSource appRole, IReadOnlyList<BenchTenant> tenants, CancellationToken cancellationToken)
    {
        if (tenants.Count < 2 || tenants.Any(t => t.Contacts == 0))
        {
            throw new InvalidOperationException($"need at least two tenants with contacts, found {tenants.Count}");
        }

        await using var connection = await appRole.OpenConnectionAsync(cancellationToken);
        await using (var role = new NpgsqlCommand("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", connection))
        {
            if ((bool)(await role.ExecuteScalarAsync(cancellationToken))!)
            {
                throw new InvalidOperationException($"{BenchDatabase.RoleName} bypasses row-level security");
            }
        }

        async Task<long> CountAsync(string scope, Guid? where)
        {
            await using var set = new NpgsqlCommand(SetTenants, connection);
            set.Parameters.AddWithValue("ids", scope);
            await set.ExecuteNonQueryAsync(cancellationToken);
            await using var count = new NpgsqlCommand(where is null ? CountVisible : CountOfTenant, connection);
            if (where is { } id)
            {
                count.Parameters.AddWithValue("id", id);
            }

            return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        if (await CountAsync("", null) is var unscoped and not 0)
        {
            throw new InvalidOperationException($"RLS does not bind: with no tenant scope the app role sees {unscoped} contacts");
        }

        for (var i = 0; i < tenants.Count; i++)
        {
            var tenant = tenants[i];
            var other = tenants[(i + 1) % tenants.Count];
            if (await CountAsync(tenant.Id.ToString(), null) is var visible && visible != tenant.Contacts)
            {
                throw new InvalidOperationException($"RLS scope {tenant.Slug}: the app role sees {visible} contacts, the tenant has {tenant.Contacts}");
            }

            if (await CountAsync(tenant.Id.ToString(), other.Id) is var leaked and not 0)
            {
                throw new InvalidOperationException($"RLS leak: scoped to {tenant.Slug}, the app role sees {leaked} contacts of {other.Slug}");
            }
        }
    }

    /// <summary>The superuser's count with an explicit WHERE; RLS never applies to a superuser.</summary>
    private sealed class BaselineWorker : ILoadWorker
    {
        private readonly NpgsqlConnection connection;
        private readonly NpgsqlCommand count;
        private readonly NpgsqlParameter<Guid> id = new("id", NpgsqlDbType.Uuid);
        private readonly BenchTenant[] tenants;

        private BaselineWorker(NpgsqlConnection connection, BenchTenant[] tenants)
        {
            this.connection = connection;
            this.tenants = tenants;
            count = new NpgsqlCommand(CountOfTenant, connection);
            count.Parameters.Add(id);
        }

        public static async Task<ILoadWorker> CreateAsync(NpgsqlDataSource source, BenchTenant[] tenants, CancellationToken cancellationToken)
        {
            var worker = new BaselineWorker(await source.OpenConnectionAsync(cancellationToken), tenants);
            await worker.count.PrepareAsync(cancellationToken);
            return worker;
        }

        public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
        {
            var tenant = tenants[Random.Shared.Next(tenants.Length)];
            id.TypedValue = tenant.Id;
            return (long)(await count.ExecuteScalarAsync(cancellationToken))! == tenant.Contacts;
        }

        public async ValueTask DisposeAsync()
        {
            await count.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>The app role's count: the tenant scope goes into the session setting, the policy does the rest.</summary>
    private sealed class RlsWorker : ILoadWorker
    {
        private readonly NpgsqlConnection connection;
        private readonly NpgsqlCommand set;
        private readonly NpgsqlCommand count;
        private readonly NpgsqlBatch batch;
        private readonly NpgsqlParameter<string> setIds = new("ids", NpgsqlDbType.Text);
        private readonly NpgsqlParameter<string> batchIds = new("ids", NpgsqlDbType.Text);
        private readonly BenchTenant[] tenants;
        private readonly bool batched;

        private RlsWorker(NpgsqlConnection connection, BenchTenant[] tenants, bool batched)
        {
            this.connection = connection;
            this.tenants = tenants;
            this.batched = batched;
            set = new NpgsqlCommand(SetTenants, connection);
            set.Parameters.Add(setIds);
            count = new NpgsqlCommand(CountVisible, connection);
            batch = new NpgsqlBatch(connection);
            var setInBatch = new NpgsqlBatchCommand(SetTenants);
            setInBatch.Parameters.Add(batchIds);
            batch.BatchCommands.Add(setInBatch);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(CountVisible));
        }

        public static async Task<ILoadWorker> CreateAsync(NpgsqlDataSource source, BenchTenant[] tenants, bool batched, CancellationToken cancellationToken)
        {
            var worker = new RlsWorker(await source.OpenConnectionAsync(cancellationToken), tenants, batched);
            if (batched)
            {
                await worker.batch.PrepareAsync(cancellationToken);
            }
            else
            {
                await worker.set.PrepareAsync(cancellationToken);
                await worker.count.PrepareAsync(cancellationToken);
            }

            return worker;
        }

        public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
        {
            var tenant = tenants[Random.Shared.Next(tenants.Length)];
            long visible;
            if (batched)
            {
                batchIds.TypedValue = tenant.Id.ToString();
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                await reader.NextResultAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                visible = reader.GetInt64(0);
            }
            else
            {
                setIds.TypedValue = tenant.Id.ToString();
                await set.ExecuteNonQueryAsync(cancellationToken);
                visible = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }

            return visible == tenant.Contacts;
        }

        public async ValueTask DisposeAsync()
        {
            await batch.DisposeAsync();
            await set.DisposeAsync();
            await count.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
