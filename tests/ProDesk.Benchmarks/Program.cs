using System.Diagnostics;
using Npgsql;
using ProDesk.Benchmarks;
using ProDesk.Benchmarks.Scenarios;

// The load driver for ProDesk's performance targets. Exit codes: 0 done, 1 failed (errors under
// load, a wrong answer, the app dying), 2 cannot run (no PostgreSQL given, bad arguments).
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

if (BenchOptions.Parse(args, out var argumentError) is not { } options)
{
    await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: {argumentError}\n{BenchOptions.Usage}");
    return 2;
}

var superuser = Environment.GetEnvironmentVariable("PRODESK_BENCH_PG") is { Length: > 0 } bench
    ? bench
    : Environment.GetEnvironmentVariable("PRODESK_TEST_PG");
if (string.IsNullOrWhiteSpace(superuser))
{
    await Console.Error.WriteLineAsync(
        "ProDesk.Benchmarks: no PostgreSQL to measure on: set PRODESK_BENCH_PG (or PRODESK_TEST_PG) to a superuser connection string (see tests/ProDesk.Benchmarks/README.md)");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop measuring and clean up (kill the app, drop the database).
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    return await BenchRun.RunAsync(options, superuser, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("ProDesk.Benchmarks: cancelled");
    return 1;
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HttpRequestException or Npgsql.NpgsqlException)
{
    // The app died or would not start, PostgreSQL failed, or an answer was wrong: say which, fail.
    await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: failed: {e.Message}");
    return 1;
}

/// <summary>One run: a fresh database, the app on it, the scenarios, then the report.</summary>
internal static class BenchRun
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(BenchOptions options, string superuser, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var mode = options.Smoke ? "smoke" : "measurement";
        Console.WriteLine($"ProDesk.Benchmarks ({mode}): A/B {options.Concurrency} workers, {options.Duration.TotalSeconds:0.#} s each, " +
                          $"{options.Warmup.TotalSeconds:0.#} s warm-up; C {options.ClaimItems:N0} items, {options.ClaimWorkers} agents, " +
                          $"at most {options.ClaimLimit.TotalSeconds:0.#} s; D {options.IngestWorkers} clients, {options.IngestDuration.TotalSeconds:0.#} s; " +
                          $"E {options.FanOutClients:N0} hub clients, {options.FanOutEvents} events; " +
                          $"F {options.SlaItems * (long)SlaTimers.TimersPerItem:N0} armed SLA timers, {options.SlaLatencyTimers:N0} due one by one, {options.SlaBurstTimers:N0} in one second; " +
                          $"G {options.InboundWorkers} clients, {options.InboundDuration.TotalSeconds:0.#} s; H {options.Mailboxes} mailboxes" +
                          $"{(options.Only is { } only ? $" ({only} only)" : "")}; " +
                          $"PostgreSQL {BenchDatabase.Redact(superuser)}");

        BenchDatabase database;
        try
        {
            database = await BenchDatabase.CreateAsync(superuser, cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: cannot prepare PostgreSQL: {e.Message}");
            return 2;
        }

        // Raw mail, attachments and the acknowledgments' pickup files of this run only, not the repository's data/.
        var dataDirectory = Directory.CreateTempSubdirectory("prodesk-bench-data.");
        BenchMailServers? mail = null;
        try
        {
            await using (database)
            {
                return await RunOnAsync(database, dataDirectory.FullName, m => mail = m, options, superuser, clock, cancellationToken);
            }
        }
        finally
        {
            // After the app has stopped (it held IDLE connections to them) and the database is gone.
            if (mail is not null)
            {
                await mail.DisposeAsync();
            }

            try
            {
                dataDirectory.Delete(recursive: true);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"warning: could not remove {dataDirectory.FullName}: {e.Message}");
            }
        }
    }

    /// <summary>The run on its database; <paramref name="keepMail"/> hands the mail servers H uses to the caller, which stops them at the very end.</summary>
    private static async Task<int> RunOnAsync(
        BenchDatabase database, string dataDirectory, Action<BenchMailServers> keepMail, BenchOptions options, string superuser, Stopwatch clock, CancellationToken cancellationToken)
    {
        var server = await database.ServerInfoAsync(cancellationToken);
        Console.WriteLine($"database {database.DatabaseName} owned by {BenchDatabase.RoleName}; PostgreSQL {server.Version}");

        IReadOnlyList<BenchTenant> tenants;
        LoadResult pages;
        ClaimFindings claims;
        IngestFindings ingestion;
        FanOutFindings fanOut;
        SlaFindings sla;
        MailboxFindings mailboxes;
        InboundFindings inbound;
        Task<AppProcess> StartApp(IReadOnlyDictionary<string, string>? overrides, CancellationToken token) => StartAppAsync(database, dataDirectory, options, token, overrides);
        async Task<BenchMailServers> MailAsync()
        {
            var servers = await BenchMailServers.AcquireAsync(cancellationToken);
            keepMail(servers);
            Console.WriteLine($"  IMAP: {servers.Description}");
            return servers;
        }

        await using (var stoppable = new StoppableApp(await StartApp(null, cancellationToken)))
        {
            var app = stoppable.App;
            Console.WriteLine($"app ready at {app.BaseAddress} after {clock.Elapsed.TotalSeconds:0.0} s");
            if (options.OnlyFanOut)
            {
                return await FanOutOnlyAsync(app, database, options, clock, cancellationToken);
            }

            if (options.OnlySla)
            {
                return await SlaOnlyAsync(app, database, options, StartApp, clock, cancellationToken);
            }

            if (options.OnlyMailboxes)
            {
                Console.WriteLine(MailboxWatch.Title);
                var alone = await MailboxWatch.RunAsync(app.BaseAddress, database, await database.TenantsAsync(cancellationToken), await MailAsync(), options, cancellationToken);
                app.EnsureRunning();
                Console.WriteLine();
                Console.WriteLine(alone.Summary);
                return await OnlyOutcomeAsync("H", ResultsReport.MailboxTargets(alone), alone.Passed, MailboxCheck(alone), clock);
            }

            if (options.OnlyInbound)
            {
                Console.WriteLine(InboundMime.Title);
                inbound = await InboundMime.RunAsync(app, database, await database.TenantsAsync(cancellationToken), options, cancellationToken);
                app.EnsureRunning();
                // The bare loop has PostgreSQL to itself, as in the full run: the app (busy with G's acknowledgments) stops first.
                await stoppable.DisposeAsync();
                return await InboundOnlyAsync(database, inbound, options, clock, cancellationToken);
            }

            if (options.OnlyClaims)
            {
                var claimTenants = await database.TenantsAsync(cancellationToken);
                Console.WriteLine(ClaimNext.Title);
                var alone = await ClaimNext.RunAsync(app.BaseAddress, database, claimTenants, options, cancellationToken);
                app.EnsureRunning();
                await stoppable.DisposeAsync();
                Console.WriteLine($"{ClaimNext.Title}: the bare SQL loop");
                var bareAlone = await BareClaimLoop.RunAsync(database, claimTenants, options, alone.ClaimsAtSaturation, cancellationToken);
                Console.WriteLine($"  {bareAlone.Summary}");
                alone = alone with { Bare = bareAlone };
                Console.WriteLine($"C claim-next: {alone.ClaimsPerSecond:N0} claims/s, paced p99 {alone.Paced.Calls.P99:0.00} ms, {alone.DoubleClaims} double claims; " +
                                  (alone.RatioToBare is { } aloneRatio ? $"bare {bareAlone.Tps:N0} tps, app/bare {aloneRatio:0.00}" : bareAlone.Summary));
                return alone.Passed ? 0 : 1;
            }

            if (options.OnlyIngestion)
            {
                Console.WriteLine(ApiIngestion.Title);
                var alone = await ApiIngestion.RunAsync(app.BaseAddress, database, await database.TenantsAsync(cancellationToken), options, cancellationToken);
                app.EnsureRunning();
                Console.WriteLine(IngestionSummary(alone));
                return alone.Errors == 0 && alone.AllStored ? 0 : 1;
            }

            if (options.ContactsPerTenant > 0)
            {
                var adding = Stopwatch.StartNew();
                await database.AddContactsAsync(options.ContactsPerTenant, cancellationToken);
                Console.WriteLine($"added {options.ContactsPerTenant:N0} contacts per tenant in {adding.Elapsed.TotalSeconds:0.0} s");
            }

            tenants = await database.TenantsAsync(cancellationToken);
            Console.WriteLine("tenants: " + string.Join(", ", tenants.Select(t => $"{t.Slug} ({t.Contacts:N0} contacts)")));

            Console.WriteLine(TenantPageReads.Title);
            pages = await TenantPageReads.RunAsync(app.BaseAddress, tenants, options, cancellationToken);
            Console.WriteLine($"  {pages.Summary}");
            app.EnsureRunning();

            Console.WriteLine(ClaimNext.Title);
            claims = await ClaimNext.RunAsync(app.BaseAddress, database, tenants, options, cancellationToken);
            app.EnsureRunning();

            // Each claim appended an outbox event: let the relay catch up so D does not pay for C.
            var settling = Stopwatch.StartNew();
            var backlog = await database.WaitForOutboxAsync(TimeSpan.FromSeconds(options.Smoke ? 15 : 120), cancellationToken);
            Console.WriteLine($"outbox relay settled in {settling.Elapsed.TotalSeconds:0.0} s ({backlog:N0} events still waiting)");

            Console.WriteLine(ApiIngestion.Title);
            ingestion = await ApiIngestion.RunAsync(app.BaseAddress, database, tenants, options, cancellationToken);
            app.EnsureRunning();

            // D's events too: E's clients must receive E's events only, not D's backlog.
            settling.Restart();
            backlog = await database.WaitForOutboxAsync(TimeSpan.FromSeconds(options.Smoke ? 15 : 120), cancellationToken);
            Console.WriteLine($"outbox relay settled in {settling.Elapsed.TotalSeconds:0.0} s ({backlog:N0} events still waiting)");

            // D's conversations in sla-lab (1- and 10-minute goals) would breach while E's clients connect: E measures the fan-out alone.
            await using (var admin = new NpgsqlConnection(database.AdminConnectionString))
            {
                await admin.OpenAsync(cancellationToken);
                Console.WriteLine($"postponed by a day {await SlaTimers.PostponeAppTimersAsync(admin, cancellationToken):N0} timers of D's items due within the hour");
            }

            Console.WriteLine(FanOut.Title);
            fanOut = await FanOut.RunAsync(app.BaseAddress, database, tenants, options, cancellationToken);
            app.EnsureRunning();

            // F waits for the relay itself (E's events), then measures the app at rest before adding its timers.
            Console.WriteLine(SlaTimers.Title);
            sla = await SlaTimers.RunAsync(app, database, options, StartApp, cancellationToken);
            app.EnsureRunning();

            // H before G: G leaves the app busy for minutes (acknowledgments to send, events to publish).
            Console.WriteLine(MailboxWatch.Title);
            mailboxes = await MailboxWatch.RunAsync(app.BaseAddress, database, tenants, await MailAsync(), options, cancellationToken);
            app.EnsureRunning();

            settling.Restart();
            backlog = await database.WaitForOutboxAsync(TimeSpan.FromSeconds(options.Smoke ? 15 : 120), cancellationToken);
            Console.WriteLine($"outbox relay settled in {settling.Elapsed.TotalSeconds:0.0} s ({backlog:N0} events still waiting)");

            Console.WriteLine(InboundMime.Title);
            inbound = await InboundMime.RunAsync(app, database, tenants, options, cancellationToken);
            app.EnsureRunning();
        }

        // The app is stopped: scenario B and C's and G's bare loops measure PostgreSQL alone. D and G
        // created contacts (their senders), so B counts again what each tenant has now.
        var tenantsAfter = await database.TenantsAsync(cancellationToken);
        Console.WriteLine(RlsCount.Title);
        var rls = await RlsCount.RunAsync(database, tenantsAfter, options, cancellationToken);
        var counts = rls.Results;

        Console.WriteLine($"{ClaimNext.Title}: the bare SQL loop");
        var bare = await BareClaimLoop.RunAsync(database, tenants, options, claims.ClaimsAtSaturation, cancellationToken);
        claims = claims with { Bare = bare };
        Console.WriteLine($"  {bare.Summary}");

        Console.WriteLine($"{InboundMime.Title}: the bare insert loop");
        inbound = inbound with { Bare = await BareInboundLoop.RunAsync(database, inbound, options, cancellationToken) };
        Console.WriteLine($"  {inbound.Bare.Summary}");

        var report = new ResultsReport(
            DateTimeOffset.UtcNow, Command(superuser, options), MachineInfo.Current(), server, options, tenants, tenantsAfter, pages, rls, claims, ingestion, fanOut, sla,
            inbound, mailboxes);
        // A and B: an error means a figure cannot be trusted, so nothing is written. C and D: errors
        // and failed checks are results the issue asks about; a real run records them, then fails.
        var errors = pages.Errors + counts.Sum(c => c.Errors);
        var failedChecks = new List<string>();
        if (!claims.Passed)
        {
            failedChecks.Add($"C: {claims.Calls.Errors} errors, {claims.DoubleClaims} double claims, database {(claims.AssignmentsMatch ? "agrees" : "DISAGREES")} with the answers" +
                             (claims.Calls.FirstError is { } first ? $" (first error: {first})" : ""));
        }

        if (ingestion.Errors > 0 || !ingestion.AllStored)
        {
            failedChecks.Add($"D: {ingestion.Errors} errors, {ingestion.Result.Operations + ingestion.Paced.Operations - ingestion.Errors:N0} conversations created, {ingestion.StoredItems:N0} stored" +
                             ((ingestion.Result.FirstError ?? ingestion.Paced.FirstError) is { } first ? $" (first error: {first})" : ""));
        }

        if (!fanOut.Passed)
        {
            failedChecks.Add(FanOutCheck(fanOut));
        }

        if (!sla.Passed)
        {
            failedChecks.Add(SlaCheck(sla));
        }

        if (!inbound.Passed)
        {
            failedChecks.Add(InboundCheck(inbound));
        }

        if (!mailboxes.Passed)
        {
            failedChecks.Add(MailboxCheck(mailboxes));
        }

        Console.WriteLine();
        Console.WriteLine($"A tenant pages: {pages.PerSecond:N0} req/s, p50 {pages.P50:0.00} ms, p99 {pages.P99:0.00} ms, {pages.Errors} errors");
        Console.WriteLine($"B RLS count: bypassed {report.RlsBaseline.PerSecond:N0} q/s; RLS {report.Ratio(RlsCount.TwoTrips):0.00}x " +
                          $"(2 round trips), {report.Ratio(RlsCount.Batched):0.00}x (1 batch); {counts.Sum(c => c.Errors)} errors");
        Console.WriteLine($"C claim-next: {claims.ClaimsPerSecond:N0} claims/s by {claims.Workers} agents, p99 {claims.Calls.P99:0.00} ms, " +
                          $"{claims.DoubleClaims} double claims, {claims.Calls.Errors} errors; " +
                          (claims.RatioToBare is { } ratio ? $"bare SQL loop {bare.Tps:N0} tps, app/bare {ratio:0.00}" : bare.Summary));
        Console.WriteLine(IngestionSummary(ingestion));
        Console.WriteLine(FanOutLine(fanOut));
        Console.WriteLine(SlaLine(sla));
        Console.WriteLine(InboundLine(inbound));
        Console.WriteLine(mailboxes.Summary);
        PrintTargets(report.Targets);

        if (errors > 0)
        {
            await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: {errors} errors under load in A or B; RESULTS.md left as it was");
            return 1;
        }

        if (!options.Smoke || options.ReportFile is not null)
        {
            var file = options.ReportFile ?? ResultsReport.File;
            await File.WriteAllTextAsync(file, report.ToMarkdown(), CancellationToken.None);
            Console.WriteLine($"wrote {Path.GetRelativePath(Repository.Root, file)} in {clock.Elapsed.TotalSeconds:0.0} s");
        }

        foreach (var failed in failedChecks)
        {
            await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: failed check: {failed}");
        }

        if (failedChecks.Count > 0)
        {
            return 1;
        }

        if (options.Smoke)
        {
            Console.WriteLine($"smoke passed in {clock.Elapsed.TotalSeconds:0.0} s (RESULTS.md untouched)");
        }

        return 0;
    }

    /// <summary><c>--only E</c>: scenario E on the freshly started app; prints its figures and targets, writes nothing.</summary>
    private static async Task<int> FanOutOnlyAsync(AppProcess app, BenchDatabase database, BenchOptions options, Stopwatch clock, CancellationToken cancellationToken)
    {
        var tenants = await database.TenantsAsync(cancellationToken);
        Console.WriteLine(FanOut.Title);
        var fanOut = await FanOut.RunAsync(app.BaseAddress, database, tenants, options, cancellationToken);
        app.EnsureRunning();
        Console.WriteLine();
        Console.WriteLine(FanOutLine(fanOut));
        return await OnlyOutcomeAsync("E", ResultsReport.FanOutTargets(fanOut), fanOut.Passed, FanOutCheck(fanOut), clock);
    }

    private static void PrintTargets(IEnumerable<PerformanceTarget> targets)
    {
        foreach (var target in targets)
        {
            Console.WriteLine($"target {target.Name}: {target.Measured} => {(target.Met ? "met" : "NOT met")}");
        }
    }

    /// <summary>How a scenario run alone ends: its targets, then exit 1 with the failed check, or 0.</summary>
    private static async Task<int> OnlyOutcomeAsync(string scenario, IReadOnlyList<PerformanceTarget> targets, bool passed, string check, Stopwatch clock)
    {
        PrintTargets(targets);
        if (!passed)
        {
            await Console.Error.WriteLineAsync($"ProDesk.Benchmarks: failed check: {check}");
            return 1;
        }

        Console.WriteLine($"scenario {scenario} passed in {clock.Elapsed.TotalSeconds:0.0} s (RESULTS.md untouched)");
        return 0;
    }

    /// <summary><c>--only F</c>: scenario F on the freshly started app; prints its figures and targets, writes nothing.</summary>
    private static async Task<int> SlaOnlyAsync(
        AppProcess app, BenchDatabase database, BenchOptions options, Func<IReadOnlyDictionary<string, string>?, CancellationToken, Task<AppProcess>> startApp,
        Stopwatch clock, CancellationToken cancellationToken)
    {
        Console.WriteLine(SlaTimers.Title);
        var sla = await SlaTimers.RunAsync(app, database, options, startApp, cancellationToken);
        app.EnsureRunning();
        Console.WriteLine();
        Console.WriteLine(SlaLine(sla));
        return await OnlyOutcomeAsync("F", ResultsReport.SlaTargets(sla), sla.Passed, SlaCheck(sla), clock);
    }

    /// <summary><c>--only G</c>, once the app has stopped: G's bare loop, then its figures and targets; writes nothing.</summary>
    private static async Task<int> InboundOnlyAsync(BenchDatabase database, InboundFindings inbound, BenchOptions options, Stopwatch clock, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{InboundMime.Title}: the bare insert loop");
        inbound = inbound with { Bare = await BareInboundLoop.RunAsync(database, inbound, options, cancellationToken) };
        Console.WriteLine($"  {inbound.Bare.Summary}");
        Console.WriteLine();
        Console.WriteLine(InboundLine(inbound));
        return await OnlyOutcomeAsync("G", ResultsReport.InboundTargets(inbound), inbound.Passed, InboundCheck(inbound), clock);
    }

    private static string IngestionSummary(IngestFindings d) =>
        $"D ingestion: {d.Result.PerSecond:N0} msg/s by {d.Result.Concurrency} clients (p95 {d.Result.P95:0.00} ms); " +
        $"paced at {d.OfferedPerSecond:N0}/s offered: {d.Paced.PerSecond:N0}/s taken ({d.PacedPhase.Unsent:N0} not sent), p95 {d.Paced.P95:0.00} ms, p99 {d.Paced.P99:0.00} ms; " +
        $"{d.Errors} errors, {d.StoredItems:N0} stored";

    private static string InboundLine(InboundFindings g) =>
        $"G inbound MIME route: {g.Result.PerSecond:N0} msg/s by {g.Result.Concurrency} clients, p95 {g.Result.P95:0.00} ms, p99 {g.Result.P99:0.00} ms, " +
        $"{g.Result.Errors} errors, {g.Ingested:N0} ingested, {g.EmailItems:N0} email items; " +
        (g.RatioToBare is { } ratio ? $"bare insert loop {g.Bare.Tps:N0} tps, app/bare {ratio:0.00}" : g.Bare.Summary);

    private static string InboundCheck(InboundFindings g) =>
        $"G: {g.Result.Errors} errors, {g.Created:N0} answered 201, {g.Ingested:N0} ingested in the ledger, {g.EmailItems:N0} email items" +
        (g.Result.FirstError is { } first ? $" (first error: {first})" : "") +
        (g.Bare.Failure is { } failure ? $"; the bare loop failed: {failure}" : "");

    private static string MailboxCheck(MailboxFindings h) =>
        $"H: {h.Errors} errors ({h.NotPolled} mailboxes not polled, {h.PollErrors} polls failed, {h.AppendErrors} appends failed, " +
        $"{h.Appended - h.Ingested} messages never a work item)" + (h.FirstError is { } first ? $" (first: {first})" : "");

    private static string SlaLine(SlaFindings f) =>
        $"F SLA timers: {f.ArmedDuring:N0} armed; event on the hub p99 {f.Latency.Delivered.P99:0} ms after due (fired p99 {f.Latency.FiredAt.P99:0} ms); " +
        $"{f.Burst.Fired:N0}/{f.Burst.Timers:N0} of one second all fired after {SlaTimers.Seconds(f.Burst.AllFiredAfterFirstDue)} ({f.Burst.FiredPerSecond:N0}/s); " +
        $"app at rest {f.IdleArmed.AppCpuPercent:0.00} % of a core ({f.IdleBefore.AppCpuPercent:0.00} % with {f.IdleBefore.Armed:N0} armed), " +
        $"the sweeper's share {(f.Sweeper is { } share ? $"{share.AppPercent:0.00} %" : "not measured")}; {f.Errors} errors";

    private static string SlaCheck(SlaFindings f) =>
        $"F: {f.Errors:N0} errors" + (f.FirstError is { } first ? $" (first: {first})" : "");

    private static string FanOutLine(FanOutFindings f) =>
        $"E fan-out: {f.Received:N0}/{f.Expected:N0} deliveries of {f.Events} events to {f.Connected:N0} hub clients, p50 {f.FromAnswer.P50:0.00} ms, " +
        $"p99 {f.FromAnswer.P99:0.00} ms, max {f.FromAnswer.Max:0.00} ms from the 201 (p99 {f.FromSend.P99:0.00} ms from the send), {f.Errors} errors";

    private static string FanOutCheck(FanOutFindings f) =>
        $"E: {f.ConnectFailures} clients not connected, {f.PostErrors} events not created, {f.WarmupMissing + f.Missing:N0} deliveries missing" +
        (f.FirstError is { } first ? $" (first error: {first})" : "");

    /// <summary>The app on the benchmark database; <paramref name="overrides"/> (F's second instance) on top of the usual settings.</summary>
    private static Task<AppProcess> StartAppAsync(
        BenchDatabase database, string dataDirectory, BenchOptions options, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? overrides = null) =>
        AppProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ProDesk"] = database.AppConnectionString,
                ["ConnectionStrings__Redis"] = "",
                ["ProDesk__MigrateOnStart"] = "true",
                ["ProDesk__SeedOnStart"] = "true",
                ["ProDesk__SeedDirectory"] = Repository.SeedDirectory,
                ["ProDesk__DataDirectory"] = dataDirectory,
                // The smoke run should not wait up to 15 s for the IDLE watcher to notice H's mailboxes; the real run keeps the shipped default.
                ["Email__WatchRefreshSeconds"] = options.Smoke ? "2" : "15",
                // F measures the SLA sweeper, which runs inside the Hangfire server: both on, whatever the caller's environment says.
                ["ProDesk__RunJobs"] = "true",
                ["Sla__Sweeper"] = "true",
                // The scenarios drive the desk's capacity through a few identities (D: one integration client per tenant at
                // hundreds of requests a second; E: 1,000 hub connections over 3 users), so the per-caller limits, which
                // are about one caller's fair share, are set beyond their reach; the limiter still runs on every request.
                ["Api__RateLimit__PermitsPerMinute"] = "100000000",
                ["Api__RateLimit__Burst"] = "100000000",
                ["Realtime__AgentConnectionsPerUser"] = "0",
                // Development logs every request; measure at the production level (appsettings.json).
                ["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Warning",
            }.Concat(overrides ?? new Dictionary<string, string>()).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            ReadyTimeout,
            cancellationToken);

    /// <summary>The command that reproduces this run, for RESULTS.md (password masked).</summary>
    private static string Command(string superuser, BenchOptions options)
    {
        var command = $"PRODESK_BENCH_PG='{BenchDatabase.Redact(superuser)}' dotnet run --project tests/ProDesk.Benchmarks -c {Repository.Configuration}";
        return options.Arguments.Count == 0 ? command : $"{command} -- {string.Join(' ', options.Arguments)}";
    }
}

/// <summary>The app, stoppable before the end of its <c>await using</c> (G alone stops it for its bare loop); stopping twice is once.</summary>
internal sealed class StoppableApp(AppProcess app) : IAsyncDisposable
{
    private bool stopped;

    public AppProcess App => app;

    public async ValueTask DisposeAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await app.DisposeAsync();
        }
    }
}
