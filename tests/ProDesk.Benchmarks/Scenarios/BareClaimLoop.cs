using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

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
internal static partial class BareClaimLoop
{
    /// <summary>Connections kept free for everything else on the server.</summary>
    private const int ConnectionHeadroom = 20;

    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(30);

    public static async Task<BareClaimFindings> RunAsync(
        BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, long claimsToMatch, CancellationToken cancellationToken)
    {
        if (FindPgbench() is not { } pgbench)
        {
            return BareClaimFindings.NotRun("pgbench not found (PRODESK_PGBENCH, /usr/lib/postgresql/*/bin/pgbench or PATH)");
        }

        var maxConnections = await database.CountAsync("SELECT current_setting('max_connections')::bigint", cancellationToken);
        var inUse = await database.CountAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", cancellationToken);
        var clients = (int)Math.Min(options.PgbenchClients, maxConnections - inUse - ConnectionHeadroom);
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
            var output = await RunPgbenchAsync(pgbench, arguments, database, limit, cancellationToken);

            var latencies = ReadLatencies(directory);
            var claimed = await database.CountAsync($"SELECT count(*) FROM {BenchDatabase.BareClaimTable} WHERE \"AssigneeId\" IS NOT NULL", cancellationToken);
            var command = $"pgbench -n -M prepared -c {clients} -j {threads} -t {perClient} -f claim.sql -l";
            return new BareClaimFindings(
                null,
                options.ClaimItems,
                clients,
                threads,
                perClient,
                Match(ProcessedPattern(), output) is { } processed ? long.Parse(processed, CultureInfo.InvariantCulture) : latencies.LongLength,
                double.Parse(Match(TpsPattern(), output) ?? throw new InvalidOperationException($"pgbench printed no tps:\n{output}"), CultureInfo.InvariantCulture),
                Match(LatencyPattern(), output) is { } average ? double.Parse(average, CultureInfo.InvariantCulture) : 0,
                Percentile(latencies, 0.50),
                Percentile(latencies, 0.95),
                Percentile(latencies, 0.99),
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

    /// <summary>pgbench: $PRODESK_PGBENCH, else the newest PostgreSQL's own, else the one on PATH.</summary>
    private static string? FindPgbench()
    {
        if (Environment.GetEnvironmentVariable("PRODESK_PGBENCH") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var bundled = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => (Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0, Path: Path.Combine(dir, "bin", "pgbench")))
                .Where(c => File.Exists(c.Path))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Path)
                .FirstOrDefault();
            if (bundled is not null)
            {
                return bundled;
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "pgbench"))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Runs pgbench against the benchmark database as the superuser (libpq environment), bounded in time.</summary>
    private static async Task<string> RunPgbenchAsync(string pgbench, string[] arguments, BenchDatabase database, TimeSpan limit, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnectionStringBuilder(database.AdminConnectionString);
        var startInfo = new ProcessStartInfo(pgbench)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["PGHOST"] = connection.Host;
        startInfo.Environment["PGPORT"] = connection.Port.ToString(CultureInfo.InvariantCulture);
        startInfo.Environment["PGUSER"] = connection.Username;
        startInfo.Environment["PGDATABASE"] = connection.Database;
        startInfo.Environment["PGAPPNAME"] = "prodesk-bench-pgbench";
        if (!string.IsNullOrEmpty(connection.Password))
        {
            startInfo.Environment["PGPASSWORD"] = connection.Password;
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {pgbench}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"pgbench did not finish within {limit.TotalSeconds:0} s");
        }

        var output = await stdout + await stderr;
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"pgbench exited with {process.ExitCode}:\n{output.Trim()}");
    }

    /// <summary>Every transaction's latency in ms, sorted, from pgbench's per-transaction logs (third field: microseconds).</summary>
    private static double[] ReadLatencies(DirectoryInfo directory)
    {
        var latencies = new List<double>();
        foreach (var log in directory.GetFiles("claim.*").Where(f => f.Name != "claim.sql"))
        {
            foreach (var line in File.ReadLines(log.FullName))
            {
                var fields = line.Split(' ');
                if (fields.Length >= 3 && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var micros))
                {
                    latencies.Add(micros / 1000.0);
                }
            }
        }

        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    private static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string? Match(Regex pattern, string text) => pattern.Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"^tps = ([0-9.]+) \(without initial connection time\)", RegexOptions.Multiline)]
    private static partial Regex TpsPattern();

    [GeneratedRegex(@"^latency average = ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex LatencyPattern();

    [GeneratedRegex(@"^number of transactions actually processed: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex ProcessedPattern();
}
