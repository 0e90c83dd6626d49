using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>How late timers fired or their events arrived: milliseconds after each timer's FireAt, nearest-rank percentiles.</summary>
internal sealed record Lateness(string Name, int Count, double P50, double P95, double P99, double Max)
{
    public static Lateness Of(string name, IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        double At(double quantile) =>
            sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Lateness(name, sorted.Length, At(0.50), At(0.95), At(0.99), sorted.Length == 0 ? 0 : sorted[^1]);
    }

    public string Summary => $"p50 {P50:0} ms, p95 {P95:0} ms, p99 {P99:0} ms, max {Max:0} ms ({Count:N0})";
}

/// <summary>
/// The app at rest over one window: its process's CPU time (user + system) as a share of one core, the CPU time of its
/// PostgreSQL backends (null when the server is not on this machine), and what it asked of PostgreSQL meanwhile.
/// </summary>
internal sealed record IdleCost(
    TimeSpan Window, long Armed, double AppCpuPercent, double? DatabaseCpuPercent, int Backends, double TimerScansPerSecond, double TransactionsPerSecond)
{
    public string Summary =>
        $"{Armed:N0} armed: app {AppCpuPercent:0.00} % of a core" +
        (DatabaseCpuPercent is { } db ? $", its {Backends} PostgreSQL backends {db:0.00} %" : ", PostgreSQL backends not measured") +
        $"; {TimerScansPerSecond:0.0} scans of \"SlaTimers\"/s, {TransactionsPerSecond:0.0} transactions/s in the database (over {Window.TotalSeconds:0} s)";
}

/// <summary>
/// The sweeper's own share at rest: the app measured beside a second instance of itself on the same database with the sweeper
/// off (<c>Sla:Sweeper=false</c>, everything else the same: outbox relay, Hangfire server), both over the same window.
/// </summary>
internal sealed record SweeperShare(TimeSpan Window, double WithSweeper, double WithoutSweeper, double? DatabaseWith, double? DatabaseWithout)
{
    /// <summary>The sweeper's cost in % of one core: the difference of the two apps.</summary>
    public double AppPercent => WithSweeper - WithoutSweeper;

    /// <summary>The sweeper's queries' cost in the database, in % of one core (null when the server is not local).</summary>
    public double? DatabasePercent => DatabaseWith - DatabaseWithout;

    public string Summary =>
        $"app with the sweeper {WithSweeper:0.00} %, the same app without it {WithoutSweeper:0.00} % => the sweeper {AppPercent:0.00} % of a core" +
        (DatabasePercent is { } db ? $" (PostgreSQL backends {DatabaseWith:0.00} % vs {DatabaseWithout:0.00} % => {db:0.00} %)" : "") +
        $" (over {Window.TotalSeconds:0} s)";
}

/// <summary>
/// One group of timers moved to fall due a few seconds ahead, and what became of them: when each was fired (the sweeper's
/// FiredAt, the start of the pass that claimed it), when the driver first saw all of them committed, when the relay published
/// each one's event and when the hub client received it. Times are lateness after each timer's own FireAt.
/// </summary>
internal sealed record SlaPhase(
    string Name,
    int Timers,
    DateTime FirstDue,
    DateTime LastDue,
    long Fired,
    DateTime? AllFiredSeenAt,
    DateTime? FirstFiredAt,
    Lateness FiredAt,
    Lateness Published,
    Lateness Delivered,
    long EventsPublished,
    long DuplicateEvents,
    int Batches,
    int LargestBatch,
    double MeanBatchGapMs,
    double LongestBatchGapMs,
    DateTime? LastDeliveredAt)
{
    public long NotFired => Timers - Fired;

    public long EventsMissing => Timers - Published.Count;

    public long DeliveriesMissing => Timers - Delivered.Count;

    /// <summary>From the first timer's due time (the burst's second) until every timer was seen fired and committed.</summary>
    public TimeSpan? AllFiredAfterFirstDue => AllFiredSeenAt - FirstDue;

    /// <summary>From the last timer's due time until every timer was seen fired and committed.</summary>
    public TimeSpan? AllFiredAfterLastDue => AllFiredSeenAt - LastDue;

    /// <summary>Timers fired per second, from the first pass that fired one until all were seen committed.</summary>
    public double FiredPerSecond => AllFiredSeenAt is { } all && FirstFiredAt is { } first && all > first ? Fired / (all - first).TotalSeconds : 0;

    /// <summary>From the first due time until the hub client had received the last event.</summary>
    public TimeSpan? LastDeliveredAfterFirstDue => LastDeliveredAt - FirstDue;

    public long Errors => NotFired + EventsMissing + DeliveriesMissing + DuplicateEvents;
}

/// <summary>What scenario F measured and checked.</summary>
internal sealed record SlaFindings(
    int Items,
    long Timers,
    long ArmedBefore,
    long Postponed,
    TimeSpan InsertTime,
    IdleCost IdleBefore,
    IdleCost IdleArmed,
    SweeperShare? Sweeper,
    string ClaimPlan,
    string NextPlan,
    long DuePlanTimers,
    string DueClaimPlan,
    SlaPhase Warmup,
    SlaPhase Latency,
    TimeSpan LatencySpread,
    SlaPhase Burst,
    long FiredTotal,
    long StrayFires,
    long FiredEarly,
    long ClockEntries,
    bool HubConnected,
    string? FirstError)
{
    /// <summary>Armed timers while the latency and burst timers fired (the scenario's plus any the app had armed itself).</summary>
    public long ArmedDuring => IdleArmed.Armed;

    /// <summary>Timers not fired, fired before their time, fired outside the chosen ones, fired without exactly one clock entry; events missing or repeated.</summary>
    public long Errors => Warmup.Errors + Latency.Errors + Burst.Errors + StrayFires + FiredEarly + Math.Abs(ClockEntries - FiredTotal) + (HubConnected ? 0 : 1);

    public bool Passed => Errors == 0;
}

/// <summary>
/// Scenario F, SLA timers (issue 5): a million armed timers, then (1) the app at rest, its CPU time measured with and
/// without them; (2) a few thousand timers moved to fall due one after another a few seconds ahead: how late each fired and
/// how late its SlaWarning / SlaBreached reached a hub client; (3) ten thousand moved to fall due in the same second: how
/// long until all had fired. The app's own sweeper (inside its Hangfire server) does the firing; the driver only moves
/// FireAt, as the superuser, and watches the database and the hub.
/// </summary>
internal static class SlaTimers
{
    public const string Title = "F. SLA timers";

    /// <summary>Each inserted item arms first response at 75, 90 and 100 % of its goal and resolution at 100 %.</summary>
    public const int TimersPerItem = 4;

    /// <summary>The staff member whose hub connection receives the events (serves every demo tenant).</summary>
    public const string HubUser = "agent1@prodesk.test";

    /// <summary>
    /// Timers fired unmeasured first, over one second: the app's first firing pass compiles its queries and the trail's inserts
    /// (hundreds of milliseconds once per process), which a running desk has long done.
    /// </summary>
    public const int WarmupTimers = 50;

    /// <summary>Timers made due at once (at most; fewer when fewer are left), uncommitted, for the plan of a full claim (<see cref="SlaFindings.DueClaimPlan"/>).</summary>
    public const int DuePlanTimers = 10_000;

    /// <summary>Lead before the first latency timer falls due, and before the burst's second begins (at least).</summary>
    public static readonly TimeSpan LatencyLead = TimeSpan.FromSeconds(2);

    /// <summary>After its last due time, a phase waits at most this long for the sweeper, then as long again for the events.</summary>
    public static readonly TimeSpan FireLimit = TimeSpan.FromSeconds(60);

    /// <summary>After the relay published every event, the hub client has this long to receive them.</summary>
    public static readonly TimeSpan DeliveryLimit = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(3);

    /// <summary>The app's own timers due sooner than this when F starts are postponed (F's own fall due an hour ahead at the earliest).</summary>
    public static readonly TimeSpan PostponeHorizon = TimeSpan.FromHours(1);

    /// <summary>
    /// Moves the timers the app armed for earlier scenarios' items that fall due within <see cref="PostponeHorizon"/>
    /// a day later, so their breaches (and escalations, and events) do not run during a later measurement; returns how many.
    /// </summary>
    public static async Task<long> PostponeAppTimersAsync(NpgsqlConnection admin, CancellationToken cancellationToken) =>
        await ScalarAsync<long>(admin, """
            WITH moved AS (
                UPDATE "SlaTimers" SET "FireAt" = "FireAt" + interval '1 day', "DueAt" = "DueAt" + interval '1 day'
                WHERE "FiredAt" IS NULL AND "FireAt" < now() + @horizon
                RETURNING 1)
            SELECT count(*) FROM moved
            """, cancellationToken, ("horizon", PostponeHorizon));

    /// <summary>Before each measurement at rest (real run): JIT tiering and the app's start-up work are over.</summary>
    private static readonly TimeSpan SettleBeforeRest = TimeSpan.FromSeconds(10);
    private const int MaxPolls = 10_000;
    private static readonly string[] OtherEvents = ["WorkItemCreated", "WorkItemUpdated", "WorkItemAssigned", "PresenceChanged", "QueueStats"];

    /// <summary>The sweeper's claim (SlaSweeper.ClaimDueAsync on PostgreSQL), its parameter replaced by now().</summary>
    public const string ClaimStatement = """
        UPDATE "SlaTimers" SET "FiredAt" = now()
        WHERE "Id" IN (
            SELECT "Id" FROM "SlaTimers" WHERE "FiredAt" IS NULL AND "FireAt" <= now()
            ORDER BY "FireAt" LIMIT 500
            FOR UPDATE SKIP LOCKED)
        RETURNING "Id"
        """;

    /// <summary>The sweeper's look at the next due time (SlaSweeper.UntilNextAsync), as EF Core sends it.</summary>
    public const string NextStatement = """SELECT s."FireAt" FROM "SlaTimers" AS s WHERE s."FiredAt" IS NULL ORDER BY s."FireAt" LIMIT 1""";

    /// <summary>Application Name of the second app instance (sweeper off) whose backends are told apart from the measured app's.</summary>
    public const string ControlApplicationName = "prodesk-bench-control";

    /// <summary>
    /// Runs F on the running <paramref name="app"/>. <paramref name="startApp"/> starts another instance of the app with these
    /// environment variables on top of the driver's usual ones (for the control instance without the sweeper).
    /// </summary>
    public static async Task<SlaFindings> RunAsync(
        AppProcess app, BenchDatabase database, BenchOptions options, Func<IReadOnlyDictionary<string, string>, CancellationToken, Task<AppProcess>> startApp,
        CancellationToken cancellationToken)
    {
        var preparing = Stopwatch.StartNew();
        var token = await AppCli.CreateTokenAsync(database, HubUser, cancellationToken);
        var tenants = await database.TenantsAsync(cancellationToken);
        await using var admin = new NpgsqlConnection(database.AdminConnectionString);
        await admin.OpenAsync(cancellationToken);
        var local = IsLocal(admin);

        // Timers the app armed itself for earlier scenarios' items (D's conversations in sla-lab, whose fast lane has 1- and
        // 10-minute goals) would fall due during F, so the app would not be at rest: postponed by a day, counted.
        var postponed = await PostponeAppTimersAsync(admin, cancellationToken);
        if (postponed > 0)
        {
            Console.WriteLine($"  postponed by a day {postponed:N0} timers the app armed for earlier scenarios' items, due within {PostponeHorizon.TotalMinutes:0} minutes");
        }

        // The app's own backlog first (earlier scenarios' outbox events), then the app at rest without our timers.
        await database.WaitForOutboxAsync(TimeSpan.FromSeconds(options.Smoke ? 15 : 120), cancellationToken);
        var settle = options.Smoke ? Quiet : SettleBeforeRest;
        await Task.Delay(settle, cancellationToken);
        var armedBefore = await ScalarAsync<long>(admin, """SELECT count(*) FROM "SlaTimers" WHERE "FiredAt" IS NULL""", cancellationToken);
        var idleBefore = await MeasureIdleAsync(app, admin, options.SlaIdle, local, cancellationToken);
        Console.WriteLine($"  at rest before: {idleBefore.Summary}");

        // A million armed timers, far ahead: 4 per item, items as C inserts them, each on its tenant's default queue's policy.
        var baseTimerId = await ScalarAsync<long>(admin, """SELECT coalesce(max("Id"), 0) FROM "SlaTimers" """, cancellationToken);
        var inserting = Stopwatch.StartNew();
        var timers = await InsertAsync(admin, options.SlaItems, cancellationToken);
        var insertTime = inserting.Elapsed;
        Console.WriteLine($"  {options.SlaItems:N0} items with {timers:N0} armed timers (due +1 h .. +30 d) inserted and vacuumed in {insertTime.TotalSeconds:0.0} s");

        await Task.Delay(settle, cancellationToken);
        var idleArmed = await MeasureIdleAsync(app, admin, options.SlaIdle, local, cancellationToken);
        Console.WriteLine($"  at rest with them: {idleArmed.Summary}");
        app.EnsureRunning();

        var scope = tenants.Select(t => t.Id).ToArray();
        var claimPlan = await AnalyseAsync(database, scope, ClaimStatement, cancellationToken);
        var nextPlan = await AnalyseAsync(database, scope, NextStatement, cancellationToken);
        Console.WriteLine("  the sweeper's claim at rest (app role, EXPLAIN ANALYZE, rolled back):\n    " + claimPlan.Replace("\n", "\n    ", StringComparison.Ordinal));
        Console.WriteLine("  its look at the next due time:\n    " + nextPlan.Replace("\n", "\n    ", StringComparison.Ordinal));

        // The sweeper's own share: a second instance without it, measured beside this one over the same window.
        var sweeper = await SweeperShareAsync(app, database, options.SlaIdle, settle, local, admin, startApp, cancellationToken);
        Console.WriteLine($"  at rest beside a second app without the sweeper: {sweeper?.Summary ?? "not measured (the second app did not start)"}");
        app.EnsureRunning();

        // The timers to move: random among ours, distinct.
        var chosen = await ChooseAsync(admin, baseTimerId, WarmupTimers + options.SlaLatencyTimers + options.SlaBurstTimers, cancellationToken);
        var warmupIds = chosen[..WarmupTimers];
        var latencyIds = chosen[WarmupTimers..(WarmupTimers + options.SlaLatencyTimers)];
        var burstIds = chosen[(WarmupTimers + options.SlaLatencyTimers)..];

        var receipts = new Receipts();
        var hub = Connect(app.BaseAddress, token, receipts);
        string? firstError = null;
        var hubConnected = false;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(ConnectTimeout);
                try
                {
                    await hub.StartAsync(timeout.Token);
                    hubConnected = true;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    firstError = $"hub client ({HubUser}) did not connect: {e.GetType().Name}: {e.Message}";
                }
            }

            Console.WriteLine($"  {preparing.Elapsed.TotalSeconds:0} s into F; hub client {(hubConnected ? "connected" : "NOT connected")} as {HubUser}");

            // Warm-up, unmeasured (checked): a few timers over one second.
            var warmup = await PhaseAsync(
                "over one second (warm-up, unmeasured)", admin, warmupIds,
                [.. Enumerable.Range(0, warmupIds.Length).Select(i => (double)i / warmupIds.Length)],
                "now() + interval '1 second'", TimeSpan.FromMilliseconds(250), receipts, cancellationToken);
            Console.WriteLine($"  {Summary(warmup)}");

            // Latency: K timers falling due one after another over the spread, from LatencyLead ahead; distinct times.
            var spread = options.SlaLatencySpread.TotalSeconds;
            var latency = await PhaseAsync(
                "one after another", admin, latencyIds,
                [.. Enumerable.Range(0, latencyIds.Length).Select(i => spread * i / latencyIds.Length)],
                $"now() + interval '{LatencyLead.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds'",
                TimeSpan.FromMilliseconds(250), receipts, cancellationToken);
            Console.WriteLine($"  {Summary(latency)}");
            app.EnsureRunning();

            // Burst: B timers falling due within one second, at least LatencyLead ahead, spread evenly over it.
            var burst = await PhaseAsync(
                "in the same second", admin, burstIds,
                [.. Enumerable.Range(0, burstIds.Length).Select(i => (double)i / burstIds.Length)],
                $"date_trunc('second', now()) + interval '{(LatencyLead.TotalSeconds + 1).ToString(CultureInfo.InvariantCulture)} seconds'",
                TimeSpan.FromMilliseconds(100), receipts, cancellationToken);
            Console.WriteLine($"  {Summary(burst)}");
            app.EnsureRunning();

            // The claim with many timers due (made due uncommitted, rolled back): what a full batch's claim costs.
            var (dueTimers, duePlan) = await DueClaimPlanAsync(database, scope, baseTimerId, chosen, cancellationToken);
            Console.WriteLine($"  the claim with {dueTimers:N0} due (uncommitted, rolled back):\n    " + duePlan.Replace("\n", "\n    ", StringComparison.Ordinal));

            // Checks: only the chosen timers fired, none early, each with exactly one clock entry (warned or breached).
            var all = chosen;
            var firedTotal = await ScalarAsync<long>(admin, """SELECT count(*) FROM "SlaTimers" WHERE "Id" > @base AND "FiredAt" IS NOT NULL""", cancellationToken, ("base", baseTimerId));
            var strays = await ScalarAsync<long>(admin, """
                SELECT count(*) FROM "SlaTimers" WHERE "Id" > @base AND "FiredAt" IS NOT NULL AND NOT ("Id" = ANY(@ids))
                """, cancellationToken, ("base", baseTimerId), ("ids", all));
            var early = await ScalarAsync<long>(admin, """SELECT count(*) FROM "SlaTimers" WHERE "Id" = ANY(@ids) AND "FiredAt" < "FireAt" """, cancellationToken, ("ids", all));
            var entries = await ScalarAsync<long>(admin, """
                SELECT count(*) FROM "SlaClockEntries" c
                WHERE c."Kind" IN ('Warned', 'Breached') AND c."WorkItemId" IN (SELECT "WorkItemId" FROM "SlaTimers" WHERE "Id" > @base)
                """, cancellationToken, ("base", baseTimerId));
            firstError ??= warmup.Errors > 0 ? $"{warmup.Name}: {Problems(warmup)}"
                : latency.Errors > 0 ? $"{latency.Name}: {Problems(latency)}"
                : burst.Errors > 0 ? $"{burst.Name}: {Problems(burst)}"
                : strays + early > 0 ? $"{strays} timers fired that were not due, {early} fired before their time"
                : entries != firedTotal ? $"{firedTotal:N0} timers fired but {entries:N0} warned/breached clock entries" : null;

            var findings = new SlaFindings(
                options.SlaItems, timers, armedBefore, postponed, insertTime, idleBefore, idleArmed, sweeper, claimPlan, nextPlan, dueTimers, duePlan,
                warmup, latency, options.SlaLatencySpread, burst, firedTotal, strays, early, entries, hubConnected, firstError);
            Console.WriteLine($"  checks: {firedTotal:N0} of our timers fired ({strays} not chosen, {early} early), {entries:N0} warned/breached clock entries; errors {findings.Errors}" +
                              (firstError is null ? "" : $" (first: {firstError})"));
            return findings;
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await hub.StopAsync(stop.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not stopping in time: disposing ends it either way.
            }

            await hub.DisposeAsync();
        }
    }

    public static string Summary(SlaPhase p) =>
        $"{p.Timers:N0} timers due {p.Name} ({(p.LastDue - p.FirstDue).TotalSeconds:0.0} s): {p.Fired:N0} fired in {p.Batches:N0} passes (largest {p.LargestBatch:N0}" +
        (p.Batches > 1 ? $", one every {p.MeanBatchGapMs:0} ms, longest gap {p.LongestBatchGapMs:0} ms" : "") + "); " +
        $"all seen committed {Seconds(p.AllFiredAfterFirstDue)} after the first due time ({Seconds(p.AllFiredAfterLastDue)} after the last), {p.FiredPerSecond:N0} timers/s; " +
        $"lateness fired {p.FiredAt.Summary}; published {p.Published.Summary}; received on the hub {p.Delivered.Summary}" +
        (p.Errors > 0 ? $"; {Problems(p)}" : "");

    private static string Problems(SlaPhase p) =>
        $"{p.NotFired:N0} not fired, {p.EventsMissing:N0} events not published, {p.DeliveriesMissing:N0} not received on the hub, {p.DuplicateEvents:N0} repeated";

    public static string Seconds(TimeSpan? span) => span is { } s ? $"{s.TotalSeconds:0.00} s" : "never";

    /// <summary>
    /// Inserts <paramref name="count"/> open, unassigned conversations (as ClaimNext does: evenly over the tenants' default
    /// queues, priorities 0..3) on their queue's SLA policy, each with first response started at a moment from 2 h ago to
    /// 30 days ahead (goal 4 h: warnings at 75 and 90 %, breach at 100 %) and resolution (goal 24 h, breach only): every
    /// timer due 1 h to 31 days from now. One statement, then VACUUM (ANALYZE). Returns the timers inserted.
    /// </summary>
    private static async Task<long> InsertAsync(NpgsqlConnection admin, int count, CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand("""
            WITH queues AS (
                SELECT q."TenantId", q."Id", q."Key", row_number() OVER (ORDER BY t."Slug") - 1 AS n, count(*) OVER () AS total
                FROM "Queues" q JOIN "Tenants" t ON t."Id" = q."TenantId"
                WHERE q."IsDefault"),
            policies AS (
                SELECT DISTINCT ON (p."TenantId", p."QueueKey", p."Priority") p."TenantId", p."QueueKey", p."Priority", p."Id"
                FROM "SlaPolicies" p ORDER BY p."TenantId", p."QueueKey", p."Priority", p."Version" DESC),
            rows AS (
                SELECT g, q."TenantId", q."Id" AS "QueueId", q."Key", ((g / q.total) % 4)::int AS priority,
                       now() - interval '2 hours' + make_interval(secs => (g::bigint * 7919) % (30 * 86400)) AS started
                FROM generate_series(1, @count) AS g
                JOIN queues q ON q.n = g % q.total),
            items AS (
                INSERT INTO "WorkItems" ("Id", "TenantId", "Kind", "Status", "Priority", "QueueId", "Subject", "Channel", "ExternalId",
                                         "ContactId", "AssigneeId", "Tags", "CustomFieldsJson", "CreatedAt", "UpdatedAt", "Version", "SlaPolicyId", "DueAt")
                SELECT gen_random_uuid(), r."TenantId", 'Conversation', 'Open', r.priority, r."QueueId", 'Bench SLA item ' || r.g, 'api', NULL,
                       NULL, NULL, '{}', '{}', now() - make_interval(secs => r.g), now() - make_interval(secs => r.g), 0, p."Id",
                       r.started + interval '4 hours'
                FROM rows r
                LEFT JOIN policies p ON p."TenantId" = r."TenantId" AND p."QueueKey" = r."Key"
                    AND p."Priority" = (ARRAY['Low', 'Normal', 'High', 'Urgent'])[r.priority + 1]
                RETURNING "Id", "TenantId", "DueAt")
            INSERT INTO "SlaTimers" ("TenantId", "WorkItemId", "Target", "Percent", "FireAt", "DueAt")
            SELECT i."TenantId", i."Id", k.target, k.percent,
                   i."DueAt" - interval '4 hours' + k.goal * (k.percent / 100.0)::float8,
                   i."DueAt" - interval '4 hours' + k.goal
            FROM items i
            CROSS JOIN (VALUES ('FirstResponse', 75, interval '4 hours'), ('FirstResponse', 90, interval '4 hours'),
                               ('FirstResponse', 100, interval '4 hours'), ('Resolution', 100, interval '24 hours')) AS k(target, percent, goal)
            """, admin))
        {
            insert.CommandTimeout = 0;
            insert.Parameters.AddWithValue("count", count);
            var inserted = await insert.ExecuteNonQueryAsync(cancellationToken);
            if (inserted != (long)count * TimersPerItem)
            {
                throw new InvalidOperationException($"inserting {count} items with {TimersPerItem} timers each inserted {inserted} timers (no default queues?)");
            }
        }

        await using var vacuum = new NpgsqlCommand("""VACUUM (ANALYZE) "WorkItems", "SlaTimers" """, admin) { CommandTimeout = 0 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
        return (long)count * TimersPerItem;
    }

    /// <summary><paramref name="count"/> distinct armed timers inserted by this scenario, in random order.</summary>
    private static async Task<long[]> ChooseAsync(NpgsqlConnection admin, long baseTimerId, int count, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT "Id" FROM "SlaTimers" WHERE "Id" > @base AND "FiredAt" IS NULL ORDER BY random() LIMIT @count
            """, admin);
        command.Parameters.AddWithValue("base", baseTimerId);
        command.Parameters.AddWithValue("count", count);
        var ids = new List<long>(count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        return ids.Count == count ? [.. ids] : throw new InvalidOperationException($"only {ids.Count} armed timers to choose {count} from");
    }

    private sealed record Moved(long Id, string Key, DateTime FireAt);

    /// <summary>
    /// Moves <paramref name="ids"/> to fall due at <paramref name="anchor"/> (an SQL expression on the database's clock) plus
    /// each one's offset in seconds, keeping each timer's distance to its due time; then waits (bounded) until all are fired,
    /// their events published and received, and measures each one's lateness.
    /// </summary>
    private static async Task<SlaPhase> PhaseAsync(
        string name, NpgsqlConnection admin, long[] ids, double[] offsets, string anchor, TimeSpan poll, Receipts receipts, CancellationToken cancellationToken)
    {
        var outboxBase = await ScalarAsync<long>(admin, """SELECT coalesce(max("Id"), 0) FROM "OutboxEvents" """, cancellationToken);
        var moved = new List<Moved>(ids.Length);
        await using (var move = new NpgsqlCommand($"""
            UPDATE "SlaTimers" t
            SET "FireAt" = a.at + make_interval(secs => p.off), "DueAt" = a.at + make_interval(secs => p.off) + (t."DueAt" - t."FireAt")
            FROM unnest(@ids, @offsets) AS p(id, off), (SELECT {anchor} AS at) AS a
            WHERE t."Id" = p.id AND t."FiredAt" IS NULL
            RETURNING t."Id", t."WorkItemId", t."Target", t."Percent", t."FireAt"
            """, admin))
        {
            move.Parameters.AddWithValue("ids", ids);
            move.Parameters.AddWithValue("offsets", offsets);
            await using var reader = await move.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                moved.Add(new Moved(reader.GetInt64(0), Receipts.Key(reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3)), reader.GetDateTime(4)));
            }
        }

        if (moved.Count != ids.Length)
        {
            throw new InvalidOperationException($"{name}: moved {moved.Count} of {ids.Length} timers (some fired already?)");
        }

        var dueByKey = moved.ToDictionary(m => m.Key, m => m.FireAt);
        var firstDue = moved.Min(m => m.FireAt);
        var lastDue = moved.Max(m => m.FireAt);

        // Until every timer is fired and committed (seen by a new snapshot; the statement's start is when that snapshot was taken).
        DateTime? allSeen = null;
        long fired = 0;
        for (var polls = 0; polls < MaxPolls; polls++)
        {
            await using var count = new NpgsqlCommand("""
                SELECT count(*) FILTER (WHERE "FiredAt" IS NOT NULL), statement_timestamp() FROM "SlaTimers" WHERE "Id" = ANY(@ids)
                """, admin);
            count.Parameters.AddWithValue("ids", ids);
            await using var reader = await count.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            fired = reader.GetInt64(0);
            var at = reader.GetDateTime(1);
            if (fired == ids.Length)
            {
                allSeen = at;
                break;
            }

            if (at > lastDue + FireLimit)
            {
                break;
            }

            await Task.Delay(poll, cancellationToken);
        }

        // Their events: published by the relay (bounded), then received by the hub client (bounded).
        var waiting = Stopwatch.StartNew();
        for (var polls = 0; polls < MaxPolls && waiting.Elapsed < FireLimit; polls++)
        {
            var unpublished = await ScalarAsync<long>(admin, """
                SELECT count(*) FROM "OutboxEvents" WHERE "Id" > @base AND "Type" IN ('SlaWarning', 'SlaBreached') AND "PublishedAt" IS NULL
                """, cancellationToken, ("base", outboxBase));
            if (unpublished == 0)
            {
                break;
            }

            await Task.Delay(poll, cancellationToken);
        }

        waiting.Restart();
        while (receipts.CountOf(dueByKey.Keys) < dueByKey.Count && waiting.Elapsed < DeliveryLimit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        // Lateness of each timer's firing (the pass's FiredAt) and the passes that fired them.
        var firedAt = new List<(DateTime FireAt, DateTime FiredAt)>(ids.Length);
        await using (var read = new NpgsqlCommand("""SELECT "FireAt", "FiredAt" FROM "SlaTimers" WHERE "Id" = ANY(@ids) AND "FiredAt" IS NOT NULL""", admin))
        {
            read.Parameters.AddWithValue("ids", ids);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                firedAt.Add((reader.GetDateTime(0), reader.GetDateTime(1)));
            }
        }

        var passes = firedAt.GroupBy(f => f.FiredAt).Select(g => (At: g.Key, Count: g.Count())).OrderBy(p => p.At).ToList();

        // Each event published: matched to its timer by item, target and percent (the payload of SlaWarning / SlaBreached).
        var published = new Dictionary<string, List<DateTime>>();
        await using (var read = new NpgsqlCommand("""
            SELECT "PayloadJson", "PublishedAt" FROM "OutboxEvents"
            WHERE "Id" > @base AND "Type" IN ('SlaWarning', 'SlaBreached') AND "PublishedAt" IS NOT NULL
            """, admin))
        {
            read.Parameters.AddWithValue("base", outboxBase);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                using var payload = JsonDocument.Parse(reader.GetString(0));
                var root = payload.RootElement;
                var key = Receipts.Key(root.GetProperty("Id").GetGuid(), root.GetProperty("Target").GetString() ?? "", root.GetProperty("Percent").GetInt32());
                if (dueByKey.ContainsKey(key))
                {
                    (published.TryGetValue(key, out var list) ? list : published[key] = []).Add(reader.GetDateTime(1));
                }
            }
        }

        var delivered = dueByKey.Select(d => (Due: d.Value, At: receipts.Get(d.Key))).Where(d => d.At is not null).ToList();
        return new SlaPhase(
            name,
            ids.Length,
            firstDue,
            lastDue,
            fired,
            allSeen,
            passes.Count == 0 ? null : passes[0].At,
            Lateness.Of("fired (FiredAt)", firedAt.Select(f => (f.FiredAt - f.FireAt).TotalMilliseconds)),
            Lateness.Of("event published (relay)", published.Select(p => (p.Value.Min() - dueByKey[p.Key]).TotalMilliseconds)),
            Lateness.Of("event received (hub client)", delivered.Select(d => (d.At!.Value - d.Due).TotalMilliseconds)),
            published.Count,
            published.Sum(p => p.Value.Count - 1L),
            passes.Count,
            passes.Count == 0 ? 0 : passes.Max(p => p.Count),
            passes.Count > 1 ? (passes[^1].At - passes[0].At).TotalMilliseconds / (passes.Count - 1) : 0,
            passes.Count > 1 ? passes.Zip(passes.Skip(1), (a, b) => (b.At - a.At).TotalMilliseconds).Max() : 0,
            delivered.Count == 0 ? null : delivered.Max(d => d.At));
    }

    /// <summary>
    /// The app's CPU time (user + system, from /proc through <see cref="Process.TotalProcessorTime"/>) over
    /// <paramref name="window"/> of rest, with its PostgreSQL backends' when the server runs here, and the scans of
    /// "SlaTimers" and transactions the database counted meanwhile (the statistics are flushed about once a second: approximate).
    /// </summary>
    private static async Task<IdleCost> MeasureIdleAsync(AppProcess app, NpgsqlConnection admin, TimeSpan window, bool local, CancellationToken cancellationToken)
    {
        var armed = await ScalarAsync<long>(admin, """SELECT count(*) FROM "SlaTimers" WHERE "FiredAt" IS NULL""", cancellationToken);
        var (scansBefore, transactionsBefore) = await StatisticsAsync(admin, cancellationToken);
        using var meter = await CpuMeter.StartAsync(app, admin, local, control: false, cancellationToken);
        var clock = Stopwatch.StartNew();
        await Task.Delay(window, cancellationToken);
        var (appPercent, databasePercent, backends) = await meter.StopAsync(clock.Elapsed, cancellationToken);
        var elapsed = clock.Elapsed;
        var (scansAfter, transactionsAfter) = await StatisticsAsync(admin, cancellationToken);
        return new IdleCost(
            elapsed, armed, appPercent, databasePercent, backends,
            (scansAfter - scansBefore) / elapsed.TotalSeconds, (transactionsAfter - transactionsBefore) / elapsed.TotalSeconds);
    }

    /// <summary>
    /// Starts a second instance of the app on the same database with the sweeper off (not migrating or seeding again; its
    /// connections named <see cref="ControlApplicationName"/>), lets it settle, measures both at rest over the same window, stops
    /// it. Null when it does not start (reported, not fatal: the upper bound stands).
    /// </summary>
    private static async Task<SweeperShare?> SweeperShareAsync(
        AppProcess app, BenchDatabase database, TimeSpan window, TimeSpan settle, bool local, NpgsqlConnection admin,
        Func<IReadOnlyDictionary<string, string>, CancellationToken, Task<AppProcess>> startApp, CancellationToken cancellationToken)
    {
        AppProcess control;
        try
        {
            control = await startApp(new Dictionary<string, string>
            {
                ["Sla__Sweeper"] = "false",
                ["ProDesk__MigrateOnStart"] = "false",
                ["ProDesk__SeedOnStart"] = "false",
                ["ConnectionStrings__ProDesk"] = new NpgsqlConnectionStringBuilder(database.AppConnectionString) { ApplicationName = ControlApplicationName }.ConnectionString,
            }, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Win32Exception)
        {
            await Console.Error.WriteLineAsync($"  the second app (sweeper off) did not start: {e.Message.Split('\n')[0]}");
            return null;
        }

        await using (control)
        {
            // A fresh process: six times the settling (a minute), so its start-up and JIT tiering are not what gets compared
            // (after twenty seconds the fresh one still spent almost a point more of a core than the app it is compared with).
            await Task.Delay(settle * 6, cancellationToken);
            using var with = await CpuMeter.StartAsync(app, admin, local, control: false, cancellationToken);
            using var without = await CpuMeter.StartAsync(control, admin, local, control: true, cancellationToken);
            var clock = Stopwatch.StartNew();
            await Task.Delay(window, cancellationToken);
            var elapsed = clock.Elapsed;
            var measured = await with.StopAsync(elapsed, cancellationToken);
            var other = await without.StopAsync(elapsed, cancellationToken);
            control.EnsureRunning();
            return new SweeperShare(elapsed, measured.App, other.App, measured.Database, other.Database);
        }
    }

    /// <summary>
    /// CPU time of one app process and of its PostgreSQL backends (the app role's on this database; the control instance's
    /// told apart by their Application Name), read from /proc when the server runs on this machine. A backend that started
    /// during the window counts whole; one that ended during it is lost (the pool keeps them for minutes).
    /// </summary>
    internal sealed class CpuMeter : IDisposable
    {
        private readonly Process process;
        private readonly NpgsqlConnection admin;
        private readonly bool local;
        private readonly bool control;
        private TimeSpan processBefore;
        private Dictionary<int, TimeSpan> backendsBefore = [];

        private CpuMeter(Process process, NpgsqlConnection admin, bool local, bool control)
        {
            this.process = process;
            this.admin = admin;
            this.local = local;
            this.control = control;
        }

        public static async Task<CpuMeter> StartAsync(AppProcess app, NpgsqlConnection admin, bool local, bool control, CancellationToken cancellationToken)
        {
            var meter = new CpuMeter(Process.GetProcessById(app.ProcessId), admin, local, control);
            meter.backendsBefore = local ? await BackendTimesAsync(admin, control, cancellationToken) : [];
            meter.processBefore = meter.process.TotalProcessorTime;
            return meter;
        }

        /// <summary>% of one core over <paramref name="elapsed"/>: the process's, its backends' (null when not measured), and how many backends.</summary>
        public async Task<(double App, double? Database, int Backends)> StopAsync(TimeSpan elapsed, CancellationToken cancellationToken)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime - processBefore;
            var backendsAfter = local ? await BackendTimesAsync(admin, control, cancellationToken) : [];
            var database = backendsAfter.Sum(b => (b.Value - backendsBefore.GetValueOrDefault(b.Key)).TotalMilliseconds);
            return (cpu.TotalMilliseconds / elapsed.TotalMilliseconds * 100,
                    backendsAfter.Count > 0 ? database / elapsed.TotalMilliseconds * 100 : null,
                    backendsAfter.Count);
        }

        public void Dispose() => process.Dispose();
    }

    private static async Task<(long Scans, long Transactions)> StatisticsAsync(NpgsqlConnection admin, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'SlaTimers'),
                   (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())
            """, admin);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>CPU time of each of the app role's backends on this database (the control instance's, or the others), read from /proc.</summary>
    private static async Task<Dictionary<int, TimeSpan>> BackendTimesAsync(NpgsqlConnection admin, bool control, CancellationToken cancellationToken)
    {
        var pids = new List<int>();
        await using (var command = new NpgsqlCommand("""
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND usename = @role AND (application_name = @control) = @isControl
            """, admin))
        {
            command.Parameters.AddWithValue("role", BenchDatabase.RoleName);
            command.Parameters.AddWithValue("control", ControlApplicationName);
            command.Parameters.AddWithValue("isControl", control);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                pids.Add(reader.GetInt32(0));
            }
        }

        var times = new Dictionary<int, TimeSpan>();
        foreach (var pid in pids)
        {
            try
            {
                using var backend = Process.GetProcessById(pid);
                // A backend's process title is "postgres: user database host(port) state".
                if (backend.ProcessName.StartsWith("postgres", StringComparison.Ordinal))
                {
                    times[pid] = backend.TotalProcessorTime;
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or Win32Exception or NotSupportedException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return times;
    }

    /// <summary>The plan and timing of one of the sweeper's statements as the app role with every tenant in scope (rolled back).</summary>
    private static async Task<string> AnalyseAsync(BenchDatabase database, IReadOnlyList<Guid> scope, string statement, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(database.AppConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var set = new NpgsqlCommand("SELECT set_config('prodesk.tenant_ids', @ids, false)", connection))
        {
            set.Parameters.AddWithValue("ids", string.Join(',', scope));
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        var lines = new List<string>();
        for (var run = 0; run < 2; run++)
        {
            // The first run warms the cache; the second is reported.
            lines.Clear();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", connection, transaction))
            {
                await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    lines.Add(reader.GetString(0));
                }
            }

            await transaction.RollbackAsync(cancellationToken);
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// The plan of the sweeper's claim with <see cref="DuePlanTimers"/> timers due: in one transaction of the superuser, armed
    /// timers of this scenario (not <paramref name="chosen"/>) are made due a second ago, then the claim runs as the app role
    /// (SET ROLE, every tenant in scope) under EXPLAIN ANALYZE; all rolled back. The app's sweeper does not see the
    /// uncommitted rows (its claim skips them).
    /// </summary>
    private static async Task<(long Due, string Plan)> DueClaimPlanAsync(BenchDatabase database, IReadOnlyList<Guid> scope, long baseTimerId, long[] chosen, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long made;
        await using (var due = new NpgsqlCommand("""
            UPDATE "SlaTimers" SET "FireAt" = now() - interval '1 second'
            WHERE "Id" IN (SELECT "Id" FROM "SlaTimers" WHERE "Id" > @base AND "FiredAt" IS NULL AND NOT ("Id" = ANY(@chosen)) LIMIT @count)
            """, connection, transaction))
        {
            due.CommandTimeout = 0;
            due.Parameters.AddWithValue("base", baseTimerId);
            due.Parameters.AddWithValue("chosen", chosen);
            due.Parameters.AddWithValue("count", DuePlanTimers);
            made = await due.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var role = new NpgsqlCommand($"SET LOCAL ROLE {BenchDatabase.RoleName}; SELECT set_config('prodesk.tenant_ids', @ids, true)", connection, transaction))
        {
            role.Parameters.AddWithValue("ids", string.Join(',', scope));
            await role.ExecuteNonQueryAsync(cancellationToken);
        }

        var lines = new List<string>();
        await using (var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {ClaimStatement}", connection, transaction))
        {
            await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                lines.Add(reader.GetString(0));
            }
        }

        await transaction.RollbackAsync(cancellationToken);
        return (made, string.Join('\n', lines));
    }

    /// <summary>Whether the server is on this machine (loopback or a Unix socket), so its backends' /proc entries are its own.</summary>
    internal static bool IsLocal(NpgsqlConnection connection) =>
        connection.Host is { } host && (host.StartsWith('/') || host is "127.0.0.1" or "localhost" or "::1");

    /// <summary>One hub client of /hubs/agent (WebSockets, no negotiate) recording when each SlaWarning / SlaBreached arrived.</summary>
    private static HubConnection Connect(Uri baseAddress, string token, Receipts receipts)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "hubs/agent"), HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.WebSocketConfiguration = socket => socket.Proxy = null;
            })
            .Build();
        connection.On<JsonElement>("SlaWarning", receipts.Record);
        connection.On<JsonElement>("SlaBreached", receipts.Record);
        foreach (var other in OtherEvents)
        {
            connection.On<JsonElement>(other, _ => { });
        }

        return connection;
    }

    /// <summary>When the hub client first received each SLA event (UTC wall clock, comparable with the database's on this machine).</summary>
    private sealed class Receipts
    {
        private readonly ConcurrentDictionary<string, DateTime> at = new();

        public static string Key(Guid itemId, string target, int percent) =>
            string.Create(CultureInfo.InvariantCulture, $"{itemId:N}|{target.ToUpperInvariant()}|{percent}");

        public void Record(JsonElement sla)
        {
            var now = DateTime.UtcNow;
            if (sla.TryGetProperty("itemId", out var id) && id.TryGetGuid(out var itemId)
                && sla.TryGetProperty("target", out var target) && target.GetString() is { } name
                && sla.TryGetProperty("percent", out var percent) && percent.TryGetInt32(out var share))
            {
                at.TryAdd(Key(itemId, name, share), now);
            }
        }

        public DateTime? Get(string key) => at.TryGetValue(key, out var when) ? when : null;

        public int CountOf(IEnumerable<string> keys) => keys.Count(at.ContainsKey);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)Convert.ChangeType((await command.ExecuteScalarAsync(cancellationToken))!, typeof(T), CultureInfo.InvariantCulture);
    }
}
