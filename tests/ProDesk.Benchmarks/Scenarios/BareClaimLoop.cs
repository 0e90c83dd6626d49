using System.Globalization;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>pgbench's figures for the bare SQL claim loop, or why it did not run (<see cref="Skipped"/>).</summary>
internal sealed record BareClaimFindings(
    string? Skipped,
    int Items,
    int Clients,
    int Threads,
    int TransactionsPerClient,
    long Transactions,
    double Tps,
    double LatencyAverage,
    double P50,
    double P95,
    double P99,
    double Max,
    long ClaimedRows,
    long MaxConnections,
    string Command,
    string Script,
    string Plan)
{
    public static BareClaimFindings NotRun(string reason) => new(reason, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", "", "");

    public string Summary => Skipped is { } reason
        ? $"bare SQL loop not measured: {reason}"
        : $"bare SQL loop (pgbench -c {Clients} -j {Threads} -t {TransactionsPerClient}): {Transactions:N0} transactions, {Tps:N0} tps, " +
          $"latency avg {LatencyAverage:0.00} ms, p50 {P50:0.00} ms, p95 {P95:0.00} ms, p99 {P99:0.00} ms, max {Max:0.00} ms; {ClaimedRows:N0} rows claimed";
}

/// <summary>
/// Scenario C's yardstick: the claim statement alone, in a pgbench loop, on a fresh table of the same
/// shape and size (<see cref="BenchDatabase.BareClaimTable"/>: "WorkItems"' columns and indexes, no RLS,
/// as the superuser). It runs after the app has stopped, so it has the machine to itself. To claim
/// from the same pool as the app did, it runs as many transactions as the app claimed items.
/// </summary>
internal static class BareClaimLoop
{
    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(30);

    public static async Task<BareClaimFindings> RunAsync(
        BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, long claimsToMatch, CancellationToken cancellationToken)
    {
        if (Pgbench.Find() is not { } pgbench)
        {
            return BareClaimFindings.NotRun("pgbench not found (PRODESK_PGBENCH, /usr/lib/postgresql/*/bin/pgbench or PATH)");
        }

        var (clients, maxConnections, inUse) = await Pgbench.ClientsAsync(database, options.PgbenchClients, cancellationToken);
        if (clients < 1)
        {
            return BareClaimFindings.NotRun($"no free connections (max_connections {maxConnections}, {inUse} in use)");
        }

        var threads = Math.Clamp(Environment.ProcessorCount, 1, clients);
        var perClient = (int)Math.Max(1, Math.Min(claimsToMatch, options.ClaimItems) / clients);
        await database.AddOpenItemsAsync(BenchDatabase.BareClaimTable, options.ClaimItems, cancellationToken);
        var statement = ClaimNext.Statement(BenchDatabase.BareClaimTable, tenants, "('00000000-0000-4000-8000-' || lpad(:agent::text, 12, '0'))::uuid");
        var script = $"\\set agent random(1, 1000000)\n{statement}\n";
        var plan = await database.PlanAsync(
            ClaimNext.Statement(BenchDatabase.BareClaimTable, tenants, $"'{Guid.Empty}'"), appRoleScope: null, cancellationToken);

        var directory = Directory.CreateTempSubdirectory("prodesk-bench-pgbench.");
        try
        {
            var scriptFile = Path.Combine(directory.FullName, "claim.sql");
            await File.WriteAllTextAsync(scriptFile, script, cancellationToken);
            string[] arguments =
            [
                "-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
                "-t", perClient.ToString(CultureInfo.InvariantCulture), "-f", scriptFile, "-l", "--log-prefix", Path.Combine(directory.FullName, "claim"),
            ];
            // Same claims as the app, but pgbench's pace is unknown: a generous bound, then it is killed.
            var limit = TimeSpan.FromTicks(Math.Max(2 * options.ClaimLimit.Ticks, TimeSpan.FromSeconds(60).Ticks)) + HangGrace;
            var output = await Pgbench.RunAsync(pgbench, arguments, database, limit, cancellationToken);

            var latencies = Pgbench.ReadLatencies(directory, "claim");
            var claimed = await database.CountAsync($"SELECT count(*) FROM {BenchDatabase.BareClaimTable} WHERE \"AssigneeId\" IS NOT NULL", cancellationToken);
            var command = $"pgbench -n -M prepared -c {clients} -j {threads} -t {perClient} -f claim.sql -l";
            return new BareClaimFindings(
                null,
                options.ClaimItems,
                clients,
                threads,
                perClient,
                Pgbench.Processed(output) ?? latencies.LongLength,
                Pgbench.Tps(output),
                Pgbench.LatencyAverage(output) ?? 0,
                Pgbench.Percentile(latencies, 0.50),
                Pgbench.Percentile(latencies, 0.95),
                Pgbench.Percentile(latencies, 0.99),
                latencies.Length == 0 ? 0 : latencies[^1],
                claimed,
                maxConnections,
                command,
                script,
                plan);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
