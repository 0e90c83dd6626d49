using System.Globalization;

namespace ProDesk.Benchmarks;

/// <summary>
/// The command line. Default: the real measurement, which rewrites RESULTS.md. <c>--smoke</c>: every
/// scenario for about two seconds with small concurrency, to prove the harness still runs; it writes
/// nothing.
/// </summary>
internal sealed record BenchOptions(
    bool Smoke,
    int Concurrency,
    TimeSpan Duration,
    TimeSpan Warmup,
    int ContactsPerTenant,
    IReadOnlyList<string> Arguments)
{
    public const string Usage = """
        usage: dotnet run --project tests/ProDesk.Benchmarks -c Release [-- OPTIONS]
          --smoke                   each scenario ~2 s with 4 workers; prints figures, writes nothing
          --concurrency N           workers per scenario (default 32)
          --duration SECONDS        measured time per scenario (default 30)
          --warmup SECONDS          unmeasured time before each scenario (default 5)
          --contacts-per-tenant N   contacts added to each tenant before measuring (default 50000)
        PostgreSQL: PRODESK_BENCH_PG (else PRODESK_TEST_PG), a superuser connection string.
        """;

    /// <summary>The options, or null with a reason when the command line is not understood.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var smoke = args.Contains("--smoke");
        int? concurrency = null, contacts = null;
        double? duration = null, warmup = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--smoke")
            {
                continue;
            }

            if (i + 1 >= args.Count || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                error = $"'{name}' needs a non-negative number";
                return null;
            }

            i++;
            switch (name)
            {
                case "--concurrency" when value >= 1 && value == Math.Floor(value):
                    concurrency = (int)value;
                    break;
                case "--duration" when value > 0:
                    duration = value;
                    break;
                case "--warmup":
                    warmup = value;
                    break;
                case "--contacts-per-tenant" when value == Math.Floor(value) && value <= 10_000_000:
                    contacts = (int)value;
                    break;
                default:
                    error = $"unknown option or bad value: {name} {args[i]}";
                    return null;
            }
        }

        return new BenchOptions(
            smoke,
            concurrency ?? (smoke ? 4 : 32),
            TimeSpan.FromSeconds(duration ?? (smoke ? 2 : 30)),
            TimeSpan.FromSeconds(warmup ?? (smoke ? 0 : 5)),
            contacts ?? (smoke ? 0 : 50_000),
            [.. args]);
    }
}
