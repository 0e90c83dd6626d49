using System.Globalization;

namespace ProDesk.Benchmarks;

/// <summary>
/// The command line. Default: the real measurement, which rewrites RESULTS.md. <c>--smoke</c>: every
/// scenario for a few seconds with small concurrency and small data, to prove the harness still runs;
/// it writes nothing. Concurrency, Duration and Warmup are scenarios A and B's; the claim (C),
/// ingestion (D) and fan-out (E) scenarios have their own sizes, as the targets name them.
/// </summary>
internal sealed record BenchOptions(
    bool Smoke,
    int Concurrency,
    TimeSpan Duration,
    TimeSpan Warmup,
    int ContactsPerTenant,
    IReadOnlyList<string> Arguments)
{
    /// <summary>C: open, unassigned items inserted before the agents start claiming.</summary>
    public int ClaimItems { get; init; } = Smoke ? 2_000 : 100_000;

    /// <summary>C: concurrent agents calling POST /api/v1/work/next until it answers 204.</summary>
    public int ClaimWorkers { get; init; } = Smoke ? 20 : 500;

    /// <summary>C: the claim loop stops issuing calls after this long, drained or not.</summary>
    public TimeSpan ClaimLimit { get; init; } = TimeSpan.FromSeconds(Smoke ? 15 : 120);

    /// <summary>C: clients of the bare SQL loop (pgbench -c), capped by the server's free connections.</summary>
    public int PgbenchClients { get; init; } = Smoke ? 20 : 100;

    /// <summary>D: concurrent API clients posting conversations.</summary>
    public int IngestWorkers { get; init; } = Smoke ? 4 : 64;

    /// <summary>D: measured time (after <see cref="Warmup"/> unmeasured).</summary>
    public TimeSpan IngestDuration { get; init; } = TimeSpan.FromSeconds(Smoke ? 3 : 60);

    /// <summary>E: SignalR clients connected to /hubs/agent.</summary>
    public int FanOutClients { get; init; } = Smoke ? 50 : 1_000;

    /// <summary>E: measured events, fired one at a time (after one unmeasured).</summary>
    public int FanOutEvents { get; init; } = Smoke ? 3 : 20;

    /// <summary><c>--only E</c>: the app and scenario E alone; prints figures, writes nothing.</summary>
    public bool OnlyFanOut { get; init; }

    public const string Usage = """
        usage: dotnet run --project tests/ProDesk.Benchmarks -c Release [-- OPTIONS]
          --smoke                   every scenario small and short; prints figures, writes nothing
          --concurrency N           A and B: workers per scenario (default 32)
          --duration SECONDS        A and B: measured time per scenario (default 30)
          --warmup SECONDS          unmeasured time before A, each B variant and D (default 5)
          --contacts-per-tenant N   A and B: contacts added to each tenant first (default 50000)
          --claim-items N           C: open items to claim (default 100000; smoke 2000)
          --claim-workers N         C: concurrent agents claiming over HTTP (default 500; smoke 20)
          --claim-limit SECONDS     C: stop claiming after this long (default 120; smoke 15)
          --pgbench-clients N       C: clients of the bare SQL claim loop (default 100; smoke 20)
          --ingest-workers N        D: concurrent API clients posting conversations (default 64; smoke 4)
          --ingest-duration SECONDS D: measured time (default 60; smoke 3)
          --fanout-clients N        E: SignalR clients on /hubs/agent (default 1000; smoke 50)
          --fanout-events N         E: events fired one at a time (default 20; smoke 3)
          --only E                  run scenario E alone (with the app); prints figures, writes nothing
        PostgreSQL: PRODESK_BENCH_PG (else PRODESK_TEST_PG), a superuser connection string.
        """;

    /// <summary>The options, or null with a reason when the command line is not understood.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var smoke = args.Contains("--smoke");
        int? concurrency = null, contacts = null, claimItems = null, claimWorkers = null, pgbenchClients = null, ingestWorkers = null;
        int? fanOutClients = null, fanOutEvents = null;
        var onlyFanOut = false;
        double? duration = null, warmup = null, claimLimit = null, ingestDuration = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--smoke")
            {
                continue;
            }

            if (name == "--only")
            {
                // Only E can run alone: the other scenarios build on each other's data and on B's order after the app.
                if (i + 1 >= args.Count || !string.Equals(args[i + 1], "E", StringComparison.OrdinalIgnoreCase))
                {
                    error = "'--only' takes E (the fan-out scenario), the one scenario that runs alone";
                    return null;
                }

                i++;
                onlyFanOut = true;
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
                case "--claim-items" when value >= 1 && value == Math.Floor(value) && value <= 10_000_000:
                    claimItems = (int)value;
                    break;
                case "--claim-workers" when value >= 1 && value == Math.Floor(value) && value <= 5_000:
                    claimWorkers = (int)value;
                    break;
                case "--claim-limit" when value > 0 && value <= 3_600:
                    claimLimit = value;
                    break;
                case "--pgbench-clients" when value >= 1 && value == Math.Floor(value) && value <= 1_000:
                    pgbenchClients = (int)value;
                    break;
                case "--ingest-workers" when value >= 1 && value == Math.Floor(value) && value <= 5_000:
                    ingestWorkers = (int)value;
                    break;
                case "--ingest-duration" when value > 0 && value <= 3_600:
                    ingestDuration = value;
                    break;
                case "--fanout-clients" when value >= 1 && value == Math.Floor(value) && value <= 10_000:
                    fanOutClients = (int)value;
                    break;
                case "--fanout-events" when value >= 1 && value == Math.Floor(value) && value <= 1_000:
                    fanOutEvents = (int)value;
                    break;
                default:
                    error = $"unknown option or bad value: {name} {args[i]}";
                    return null;
            }
        }

        var options = new BenchOptions(
            smoke,
            concurrency ?? (smoke ? 4 : 32),
            TimeSpan.FromSeconds(duration ?? (smoke ? 2 : 30)),
            TimeSpan.FromSeconds(warmup ?? (smoke ? 0 : 5)),
            contacts ?? (smoke ? 0 : 50_000),
            [.. args]);
        return options with
        {
            ClaimItems = claimItems ?? options.ClaimItems,
            ClaimWorkers = claimWorkers ?? options.ClaimWorkers,
            ClaimLimit = claimLimit is { } limit ? TimeSpan.FromSeconds(limit) : options.ClaimLimit,
            PgbenchClients = pgbenchClients ?? options.PgbenchClients,
            IngestWorkers = ingestWorkers ?? options.IngestWorkers,
            IngestDuration = ingestDuration is { } ingest ? TimeSpan.FromSeconds(ingest) : options.IngestDuration,
            FanOutClients = fanOutClients ?? options.FanOutClients,
            FanOutEvents = fanOutEvents ?? options.FanOutEvents,
            OnlyFanOut = onlyFanOut,
        };
    }
}
