using System.Globalization;

namespace ProDesk.Benchmarks;

/// <summary>
/// The command line. Default: the real measurement, which rewrites RESULTS.md. <c>--smoke</c>: every
/// scenario for a few seconds with small concurrency and small data, to prove the harness still runs;
/// it writes nothing. Concurrency, Duration and Warmup are scenarios A and B's; the claim (C),
/// ingestion (D), fan-out (E), SLA timer (F), inbound mail (G) and mailbox (H) scenarios have their own sizes, as the issues'
/// targets name them.
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

    /// <summary>C, paced phase: how long the agents claim at their own pace (an open loop) for the latency target.</summary>
    public TimeSpan ClaimPacedDuration { get; init; } = TimeSpan.FromSeconds(Smoke ? 5 : 30);

    /// <summary>C, paced phase: each agent's mean time between claims (exponential), so the offered rate is agents / this.</summary>
    public TimeSpan ClaimPacedInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// C: clients of the bare SQL loop (pgbench -c), capped by the server's free connections: by default as
    /// many as the app's default pool holds (ProDesk.Web's DataExtensions.DefaultMaxPoolSize), so the bare
    /// loop runs at the app's concurrency at the database.
    /// </summary>
    public int PgbenchClients { get; init; } = Smoke ? 20 : AppDefaultPool;

    /// <summary>The app's default PostgreSQL pool per node on this machine (ProDesk.Web's DataExtensions.DefaultMaxPoolSize).</summary>
    public static int AppDefaultPool => Math.Max(32, Environment.ProcessorCount * 4);

    /// <summary>D: concurrent API clients posting conversations.</summary>
    public int IngestWorkers { get; init; } = Smoke ? 4 : 64;

    /// <summary>
    /// D and G: unmeasured load before the clock starts. Longer than A's: these paths run through far more
    /// code (EF Core, Npgsql, MimeKit, AngleSharp), and a freshly started process is still compiling it to
    /// its optimised tier for tens of seconds, which on two shared cores is CPU taken from the load.
    /// </summary>
    public TimeSpan IngestWarmup { get; init; } = TimeSpan.FromSeconds(Smoke ? 0 : 30);

    /// <summary>D: measured time (after <see cref="IngestWarmup"/> unmeasured).</summary>
    public TimeSpan IngestDuration { get; init; } = TimeSpan.FromSeconds(Smoke ? 3 : 60);

    /// <summary>D, paced phase: the rate offered (the throughput target), for as long as <see cref="IngestDuration"/>.</summary>
    public double IngestPacedPerSecond { get; init; } = Smoke ? 50 : 1_000;

    /// <summary>D, paced phase: clients sharing that rate; as many as the saturation loop, several times what the app holds in flight at it.</summary>
    public int IngestPacedClients { get; init; } = Smoke ? 8 : 64;

    /// <summary>E: SignalR clients connected to /hubs/agent.</summary>
    public int FanOutClients { get; init; } = Smoke ? 50 : 1_000;

    /// <summary>E: measured events, fired one at a time (after one unmeasured).</summary>
    public int FanOutEvents { get; init; } = Smoke ? 3 : 20;

    /// <summary><c>--only C</c>: the app and scenario C alone (no added contacts), then C's bare loop; prints figures, writes nothing.</summary>
    public bool OnlyClaims { get; init; }

    /// <summary><c>--only D</c>: the app and scenario D alone (no added contacts); prints figures, writes nothing.</summary>
    public bool OnlyIngestion { get; init; }

    /// <summary><c>--only E</c>: the app and scenario E alone; prints figures, writes nothing.</summary>
    public bool OnlyFanOut { get; init; }

    /// <summary>F: work items inserted with four armed SLA timers each (250,000 items: 1,000,000 timers).</summary>
    public int SlaItems { get; init; } = Smoke ? 2_000 : 250_000;

    /// <summary>F: timers moved to fall due one after another, a few seconds ahead, to time their firing.</summary>
    public int SlaLatencyTimers { get; init; } = Smoke ? 100 : 2_000;

    /// <summary>F: the span over which those timers fall due.</summary>
    public TimeSpan SlaLatencySpread { get; init; } = TimeSpan.FromSeconds(Smoke ? 5 : 20);

    /// <summary>F: timers moved to fall due within one and the same second.</summary>
    public int SlaBurstTimers { get; init; } = Smoke ? 500 : 10_000;

    /// <summary>F: each idle window over which the app's CPU time is measured.</summary>
    public TimeSpan SlaIdle { get; init; } = TimeSpan.FromSeconds(Smoke ? 5 : 30);

    /// <summary><c>--only F</c>: the app and scenario F alone; prints figures, writes nothing.</summary>
    public bool OnlySla { get; init; }

    /// <summary>G: concurrent clients posting raw mail to the inbound MIME route (and pgbench clients of its bare loop).</summary>
    public int InboundWorkers { get; init; } = Smoke ? 4 : 64;

    /// <summary>G: measured time (after <see cref="IngestWarmup"/> unmeasured); the bare loop runs as long.</summary>
    public TimeSpan InboundDuration { get; init; } = TimeSpan.FromSeconds(Smoke ? 3 : 60);

    /// <summary>G: distinct mails built before the clock starts (each sent with its own From, Subject and Message-ID).</summary>
    public int InboundTemplates { get; init; } = Smoke ? 200 : 2_000;

    /// <summary><c>--only G</c>: the app and scenario G alone, then G's bare loop; prints figures, writes nothing.</summary>
    public bool OnlyInbound { get; init; }

    /// <summary>H: IMAP mailboxes set up through the API (round-robin over the tenants) and watched by the app.</summary>
    public int Mailboxes { get; init; } = Smoke ? 4 : 100;

    /// <summary>H: the span over which one message is appended to each mailbox (zero: all at once).</summary>
    public TimeSpan MailboxSpread { get; init; } = TimeSpan.FromSeconds(Smoke ? 2 : 10);

    /// <summary><c>--only H</c>: the app and scenario H alone; prints figures, writes nothing.</summary>
    public bool OnlyMailboxes { get; init; }

    /// <summary><c>--report FILE</c>: where the report goes instead of RESULTS.md; with <c>--smoke</c>, a smoke run writes one there too (to check its shape).</summary>
    public string? ReportFile { get; init; }

    /// <summary>The scenario run alone, if any: C to H.</summary>
    public string? Only => OnlyClaims ? "C" : OnlyIngestion ? "D" : OnlyFanOut ? "E" : OnlySla ? "F" : OnlyInbound ? "G" : OnlyMailboxes ? "H" : null;

    public const string Usage = """
        usage: dotnet run --project tests/ProDesk.Benchmarks -c Release [-- OPTIONS]
          --smoke                   every scenario small and short; prints figures, writes nothing
          --concurrency N           A and B: workers per scenario (default 32)
          --duration SECONDS        A and B: measured time per scenario (default 30)
          --warmup SECONDS          unmeasured time before A and each B variant (default 5)
          --ingest-warmup SECONDS   unmeasured load before D and G (default 30; smoke 0)
          --contacts-per-tenant N   A and B: contacts added to each tenant first (default 50000)
          --claim-items N           C: open items to claim (default 100000; smoke 2000)
          --claim-workers N         C: concurrent agents claiming over HTTP (default 500; smoke 20)
          --claim-limit SECONDS     C: stop claiming after this long (default 120; smoke 15)
          --pgbench-clients N       C: clients of the bare SQL claim loop (default: the app's pool, 32 up to 8 cores; smoke 20)
          --ingest-workers N        D: concurrent API clients posting conversations (default 64; smoke 4)
          --ingest-duration SECONDS D: measured time (default 60; smoke 3)
          --fanout-clients N        E: SignalR clients on /hubs/agent (default 1000; smoke 50)
          --fanout-events N         E: events fired one at a time (default 20; smoke 3)
          --sla-items N             F: work items with 4 armed SLA timers each (default 250000; smoke 2000)
          --sla-timers N            F: timers falling due one after another (default 2000; smoke 100)
          --sla-burst N             F: timers falling due in the same second (default 10000; smoke 500)
          --sla-idle SECONDS        F: each idle CPU measurement (default 30; smoke 5)
          --inbound-workers N       G: clients posting raw mail, and pgbench clients (default 64; smoke 4)
          --inbound-duration SECONDS G: measured time, and the bare loop's (default 60; smoke 3)
          --mailboxes N             H: IMAP mailboxes watched at once (default 100; smoke 4)
          --mailbox-spread SECONDS  H: one message per mailbox appended over this span, 0 = all at once (default 10; smoke 2)
          --only C|D|E|F|G|H        run one scenario alone (with the app; C and D without added contacts); prints figures, writes nothing
          --report FILE             write the report to FILE instead of RESULTS.md (with --smoke too: to see its shape)
        PostgreSQL: PRODESK_BENCH_PG (else PRODESK_TEST_PG), a superuser connection string.
        """;

    /// <summary>The options, or null with a reason when the command line is not understood.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var smoke = args.Contains("--smoke");
        int? concurrency = null, contacts = null, claimItems = null, claimWorkers = null, pgbenchClients = null, ingestWorkers = null;
        int? fanOutClients = null, fanOutEvents = null, slaItems = null, slaTimers = null, slaBurst = null, inboundWorkers = null, mailboxes = null;
        string? only = null;
        string? report = null;
        double? duration = null, warmup = null, ingestWarmup = null, claimLimit = null, ingestDuration = null, slaIdle = null, inboundDuration = null, mailboxSpread = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--smoke")
            {
                continue;
            }

            if (name == "--only")
            {
                // A and B build on each other's data and on B's order after the app; C and D alone skip the
                // added contacts (neither reads them), so they suit iterating on the claim and ingestion paths.
                var scenario = i + 1 < args.Count ? args[i + 1].ToUpperInvariant() : "";
                if (scenario is not ("C" or "D" or "E" or "F" or "G" or "H") || only is not null)
                {
                    error = "'--only' takes C (claim-next, then its bare loop), D (API ingestion), E (the fan-out scenario), F (the SLA timers), " +
                            "G (the inbound MIME route) or H (the mailboxes), the scenarios that run alone, once";
                    return null;
                }

                i++;
                only = scenario;
                continue;
            }

            if (name == "--report")
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal) || report is not null)
                {
                    error = "'--report' takes a file name, once";
                    return null;
                }

                report = Path.GetFullPath(args[++i]);
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
                case "--ingest-warmup":
                    ingestWarmup = value;
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
                case "--sla-items" when value >= 1 && value == Math.Floor(value) && value <= 5_000_000:
                    slaItems = (int)value;
                    break;
                case "--sla-timers" when value >= 1 && value == Math.Floor(value) && value <= 100_000:
                    slaTimers = (int)value;
                    break;
                case "--sla-burst" when value >= 1 && value == Math.Floor(value) && value <= 1_000_000:
                    slaBurst = (int)value;
                    break;
                case "--sla-idle" when value >= 1 && value <= 3_600:
                    slaIdle = value;
                    break;
                case "--inbound-workers" when value >= 1 && value == Math.Floor(value) && value <= 1_000:
                    inboundWorkers = (int)value;
                    break;
                case "--inbound-duration" when value > 0 && value <= 3_600:
                    inboundDuration = value;
                    break;
                case "--mailboxes" when value >= 1 && value == Math.Floor(value) && value <= 1_000:
                    mailboxes = (int)value;
                    break;
                case "--mailbox-spread" when value <= 600:
                    mailboxSpread = value;
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
        options = options with
        {
            ClaimItems = claimItems ?? options.ClaimItems,
            ClaimWorkers = claimWorkers ?? options.ClaimWorkers,
            ClaimLimit = claimLimit is { } limit ? TimeSpan.FromSeconds(limit) : options.ClaimLimit,
            PgbenchClients = pgbenchClients ?? options.PgbenchClients,
            IngestWorkers = ingestWorkers ?? options.IngestWorkers,
            IngestDuration = ingestDuration is { } ingest ? TimeSpan.FromSeconds(ingest) : options.IngestDuration,
            IngestWarmup = ingestWarmup is { } ingestWarm ? TimeSpan.FromSeconds(ingestWarm) : options.IngestWarmup,
            FanOutClients = fanOutClients ?? options.FanOutClients,
            FanOutEvents = fanOutEvents ?? options.FanOutEvents,
            OnlyClaims = only == "C",
            OnlyIngestion = only == "D",
            OnlyFanOut = only == "E",
            SlaItems = slaItems ?? options.SlaItems,
            SlaLatencyTimers = slaTimers ?? options.SlaLatencyTimers,
            SlaBurstTimers = slaBurst ?? options.SlaBurstTimers,
            SlaIdle = slaIdle is { } idle ? TimeSpan.FromSeconds(idle) : options.SlaIdle,
            OnlySla = only == "F",
            InboundWorkers = inboundWorkers ?? options.InboundWorkers,
            InboundDuration = inboundDuration is { } inbound ? TimeSpan.FromSeconds(inbound) : options.InboundDuration,
            OnlyInbound = only == "G",
            Mailboxes = mailboxes ?? options.Mailboxes,
            MailboxSpread = mailboxSpread is { } spread ? TimeSpan.FromSeconds(spread) : options.MailboxSpread,
            OnlyMailboxes = only == "H",
            ReportFile = report,
        };
        if ((long)options.SlaLatencyTimers + options.SlaBurstTimers + Scenarios.SlaTimers.WarmupTimers > (long)options.SlaItems * Scenarios.SlaTimers.TimersPerItem)
        {
            error = $"F moves --sla-timers + --sla-burst + {Scenarios.SlaTimers.WarmupTimers} timers out of the " +
                    $"{Scenarios.SlaTimers.TimersPerItem} per item that --sla-items arms: raise --sla-items";
            return null;
        }

        return options;
    }
}
