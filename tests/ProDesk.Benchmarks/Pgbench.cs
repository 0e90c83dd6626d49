using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace ProDesk.Benchmarks;

/// <summary>
/// pgbench, PostgreSQL's own load generator, for the bare SQL yardsticks (C's claim loop, G's inbound inserts):
/// found, run against the benchmark database as the superuser (bounded in time), and its output and
/// per-transaction logs read.
/// </summary>
internal static partial class Pgbench
{
    /// <summary>Connections kept free for everything else on the server.</summary>
    public const int ConnectionHeadroom = 20;

    /// <summary>pgbench: $PRODESK_PGBENCH, else the newest PostgreSQL's own, else the one on PATH.</summary>
    public static string? Find()
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

    /// <summary>How many pgbench clients the server has room for (at most <paramref name="wanted"/>), with its max_connections.</summary>
    public static async Task<(int Clients, long MaxConnections, long InUse)> ClientsAsync(BenchDatabase database, int wanted, CancellationToken cancellationToken)
    {
        var maxConnections = await database.CountAsync("SELECT current_setting('max_connections')::bigint", cancellationToken);
        var inUse = await database.CountAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", cancellationToken);
        return ((int)Math.Min(wanted, maxConnections - inUse - ConnectionHeadroom), maxConnections, inUse);
    }

    /// <summary>Runs pgbench against the benchmark database as the superuser (libpq environment), bounded in time.</summary>
    public static async Task<string> RunAsync(string pgbench, IReadOnlyList<string> arguments, BenchDatabase database, TimeSpan limit, CancellationToken cancellationToken)
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

    /// <summary>
    /// Every transaction's latency in ms, sorted, from pgbench's per-transaction logs (<c>--log-prefix</c>
    /// <paramref name="logPrefix"/>; third field: microseconds).
    /// </summary>
    public static double[] ReadLatencies(DirectoryInfo directory, string logPrefix)
    {
        var latencies = new List<double>();
        foreach (var log in directory.GetFiles($"{logPrefix}.*").Where(f => !f.Name.EndsWith(".sql", StringComparison.Ordinal)))
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

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>pgbench's tps (without the initial connection time); throws when it printed none.</summary>
    public static double Tps(string output) =>
        double.Parse(Match(TpsPattern(), output) ?? throw new InvalidOperationException($"pgbench printed no tps:\n{output}"), CultureInfo.InvariantCulture);

    public static double? LatencyAverage(string output) =>
        Match(LatencyPattern(), output) is { } average ? double.Parse(average, CultureInfo.InvariantCulture) : null;

    public static long? Processed(string output) =>
        Match(ProcessedPattern(), output) is { } processed ? long.Parse(processed, CultureInfo.InvariantCulture) : null;

    private static string? Match(Regex pattern, string text) => pattern.Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"^tps = ([0-9.]+) \(without initial connection time\)", RegexOptions.Multiline)]
    private static partial Regex TpsPattern();

    [GeneratedRegex(@"^latency average = ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex LatencyPattern();

    [GeneratedRegex(@"^number of transactions actually processed: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex ProcessedPattern();
}
