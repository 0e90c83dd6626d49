using System.Globalization;
using System.Text;
using ProDesk.Benchmarks.Scenarios;

namespace ProDesk.Benchmarks;

/// <summary>Everything one run measured, and RESULTS.md made from it.</summary>
internal sealed record ResultsReport(
    DateTimeOffset Date,
    string Command,
    MachineInfo Machine,
    ServerInfo Server,
    BenchOptions Options,
    IReadOnlyList<BenchTenant> Tenants,
    IReadOnlyList<BenchTenant> TenantsAfterIngestion,
    LoadResult TenantPages,
    RlsFindings Rls,
    ClaimFindings Claims,
    IngestFindings Ingestion,
    FanOutFindings FanOut)
{
    /// <summary>The issue's performance targets for C, D and E, each with what this run measured.</summary>
    public IReadOnlyList<PerformanceTarget> Targets
    {
        get
        {
            var claims = Claims.Calls;
            var ingest = Ingestion.Result;
            return
            [
                new("C. claim-next: no item claimed twice", "0 double claims",
                    $"{Claims.DoubleClaims} ({Claims.TotalClaims:N0} claims checked)", Claims.NoDoubleClaims),
                new("C. claim-next: items assigned in the database = 200 answers", "equal",
                    $"{Claims.AssignedAfter - Claims.AssignedBefore:N0} assigned, {Claims.TotalClaims:N0} answered 200", Claims.AssignmentsMatch),
                new("C. claim-next: errors", "0", $"{claims.Errors}", claims.Errors == 0),
                new("C. claim-next: p99 latency", "<= 25 ms", $"{claims.P99:0.00} ms", claims.P99 <= 25),
                new("C. claim-next: throughput vs the bare SQL SKIP LOCKED loop", ">= 50 %",
                    Claims.RatioToBare is { } ratio ? $"{ratio * 100:0.#} % ({Claims.ClaimsPerSecond:N0} claims/s vs {Claims.Bare!.Tps:N0} tps)" : "not measured",
                    Claims.RatioToBare >= 0.5),
                new("D. ingestion: sustained throughput", ">= 1,000 msg/s for 60 s",
                    $"{ingest.PerSecond:N0} msg/s for {ingest.Elapsed.TotalSeconds:0} s", ingest.PerSecond >= 1_000 && ingest.Elapsed >= TimeSpan.FromSeconds(60)),
                new("D. ingestion: p95 latency", "<= 100 ms", $"{ingest.P95:0.00} ms", ingest.P95 <= 100),
                new("D. ingestion: errors", "0", $"{ingest.Errors}", ingest.Errors == 0 && Ingestion.AllStored),
                .. FanOutTargets(FanOut),
            ];
        }
    }

    /// <summary>
    /// E's targets: the p99 of every delivery with 1,000 clients connected, and nothing missing. Judged from the moment the
    /// event's POST was sent (the stricter clock: the relay may publish before the 201 is written, which makes "from the 201"
    /// flatter than what a user sees).
    /// </summary>
    public static IReadOnlyList<PerformanceTarget> FanOutTargets(FanOutFindings f) =>
    [
        new("E. fan-out: p99 delivery to 1,000 hub clients", "<= 250 ms",
            $"{f.FromSend.P99:0.00} ms from the send to {f.Connected:N0} clients ({f.Events} events, {f.Received:N0} deliveries; {f.FromAnswer.P99:0.00} ms from the 201)",
            f.FromSend.P99 <= 250 && f.Connected >= 1_000 && f.Received > 0),
        new("E. fan-out: errors (clients not connected, events not created, deliveries missing)", "0",
            $"{f.Errors:N0} ({f.Received:N0} of {f.Expected:N0} deliveries received)", f.Passed),
    ];

    /// <summary>tests/ProDesk.Benchmarks/RESULTS.md, which every real run rewrites.</summary>
    public static string File => Path.Combine(Repository.Root, "tests", "ProDesk.Benchmarks", "RESULTS.md");

    public IReadOnlyList<LoadResult> RlsCounts => Rls.Results;

    public LoadResult RlsBaseline => RlsCounts.Single(r => r.Name == RlsCount.Baseline);

    /// <summary>Throughput of an RLS variant as a fraction of the bypassed baseline's.</summary>
    public double Ratio(string variant) => RlsCounts.Single(r => r.Name == variant).PerSecond / RlsBaseline.PerSecond;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');

        Line("# ProDesk benchmark results");
        Line();
        Line("Written by `tests/ProDesk.Benchmarks` (see its README.md); every run of the command below rewrites this file.");
        Line("Load generator, app and PostgreSQL share one machine, so the figures are a floor for a real deployment and a");
        Line("baseline to compare later runs on the same kind of machine against, not a capacity claim.");
        Line();
        Line("## Run");
        Line();
        Line($"- Date: {Date.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC");
        Line($"- Command (from the repository root): `{Command}`");
        Line($"- Machine: {Machine.Processors} logical CPUs ({Machine.Cpu}), {Machine.Memory} memory; {Machine.OperatingSystem}; {Machine.Runtime}");
        Line($"- PostgreSQL {Server.Version} on {Server.Host}, same machine (shared_buffers={Server.SharedBuffers}, fsync={Server.Fsync}, synchronous_commit={Server.SynchronousCommit})");
        Line($"- App: `src/ProDesk.Web` {Repository.Configuration} build as a child process on Kestrel (HTTP/1.1, loopback), Development environment,");
        Line($"  PostgreSQL provider as role `{BenchDatabase.RoleName}` (NOSUPERUSER NOBYPASSRLS) owning a fresh database, migrated and seeded on start;");
        Line("  per-request log lines off (the production level), everything else as shipped");
        Line($"- Data: {Tenants.Count} demo tenants; contacts per tenant: " +
             string.Join(", ", Tenants.Select(t => $"{t.Slug} {t.Contacts:N0}")) +
             $" (demo seed + {Options.ContactsPerTenant:N0} added per tenant before measuring); after D (which creates its senders as contacts) and so in B: " +
             string.Join(", ", TenantsAfterIngestion.Select(t => $"{t.Slug} {t.Contacts:N0}")));
        Line($"- Scenarios A and B: {Options.Concurrency} concurrent workers each in a closed loop, {Options.Warmup.TotalSeconds:0.#} s unmeasured warm-up, " +
             $"then {Options.Duration.TotalSeconds:0.#} s measured. C: {Options.ClaimWorkers} agents over {Options.ClaimItems:N0} items, at most " +
             $"{Options.ClaimLimit.TotalSeconds:0.#} s. D: {Options.IngestWorkers} clients, {Options.Warmup.TotalSeconds:0.#} s warm-up, " +
             $"{Options.IngestDuration.TotalSeconds:0.#} s measured. E: {Options.FanOutClients:N0} hub clients, {Options.FanOutEvents} events one at a time. " +
             "Every latency recorded (nearest-rank percentiles)");
        Line("- Order: A, C (over HTTP), D, E with the app running; the app stopped; B, then C's bare SQL loop, with PostgreSQL alone");
        Line();

        Line($"## {TenantPages.Name}");
        Line();
        Line($"`GET /t/{{slug}}` round-robin over {string.Join(", ", Tenants.Select(t => $"`{t.Slug}`"))}; HttpClient keep-alive connections,");
        Line("full body read. An answer that is not 200 with the requested tenant's `<h1>` counts as an error (a run with errors");
        Line("writes no results).");
        Line();
        Line("| workers | requests | duration | requests/s | p50 | p95 | p99 | max | errors |");
        Line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Line(Row(TenantPages, includeName: false));
        Line();

        Line($"## {RlsCount.Title}");
        Line();
        Line("`SELECT count(*)` of one random tenant's contacts per query, on Npgsql directly, each worker on its own connection with");
        Line("prepared statements. The app role's query has no WHERE: the FORCEd policy on `\"Contacts\"` (reading `prodesk.tenant_ids`)");
        Line("alone restricts it. Every count is checked against the superuser's; before measuring, the run also checks that the app");
        Line("role sees nothing without a scope and nothing of another tenant with one.");
        Line();
        Line("| variant | workers | queries | duration | queries/s | p50 | p95 | p99 | max | errors |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var result in RlsCounts)
        {
            Line(Row(result, includeName: true));
        }

        Line();
        Line("| ratio (queries/s of the RLS variant / queries/s RLS bypassed) | value |");
        Line("| --- | ---: |");
        Line($"| {RlsCount.TwoTrips} | {Ratio(RlsCount.TwoTrips):0.00} |");
        Line($"| {RlsCount.Batched} | {Ratio(RlsCount.Batched):0.00} |");
        Line();
        Line($"Plans (`EXPLAIN (COSTS OFF)`, tenant `{Tenants[0].Slug}`), the superuser's count:");
        Line();
        Line("```");
        Line(Rls.BaselinePlan);
        Line("```");
        Line();
        Line("the app role's count under RLS:");
        Line();
        Line("```");
        Line(Rls.RlsPlan);
        Line("```");
        Line();
        WriteClaims(text => Line(text));
        WriteIngestion(text => Line(text));
        WriteFanOut(text => Line(text));
        WriteTargets(text => Line(text));
        return md.ToString().TrimEnd('\n') + "\n";
    }

    private void WriteClaims(Action<string> line)
    {
        var c = Claims;
        var calls = c.Calls;
        line($"## {ClaimNext.Title}");
        line("");
        line($"{c.Items:N0} open, unassigned conversations inserted as the superuser (`generate_series`, evenly over the {Tenants.Count} tenants' default queues,");
        line($"priorities 0..3, distinct creation times), then `VACUUM (ANALYZE)`. {c.Workers} concurrent agents call `POST /api/v1/work/next` over HTTP");
        line("(keep-alive connections opened before the clock starts) until it answers 204 or the time limit passes; every call is timed, the");
        line($"closing 204s included. The agents authenticate with personal access tokens made by the app's own `token create`: {c.Users.Count} distinct");
        line($"users ({string.Join(", ", c.Users.Select(u => $"`{u}`"))}, both serving all {Tenants.Count} tenants), one token each, shared round-robin by");
        line("the workers; a claim is per call, so many workers sharing a user claim exactly as many agents would. Before measuring, " +
             $"{ClaimNext.WarmupWorkers(Options)} workers claim");
        line($"{ClaimNext.WarmupClaimsPerWorker(Options)} items each, unmeasured (JIT, caches, pools); those claims are included in every check below.");
        line("");
        line("| agents | users | claims | warm-up claims | calls | duration | claims/s | p50 | p95 | p99 | max | errors | ended by |");
        line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        line($"| {c.Workers} | {c.Users.Count} | {c.Claims:N0} | {c.WarmupClaims:N0} | {calls.Operations:N0} | {calls.Elapsed.TotalSeconds:0.0} s | {c.ClaimsPerSecond:N0} " +
             $"| {calls.P50:0.00} ms | {calls.P95:0.00} ms | {calls.P99:0.00} ms | {calls.Max:0.00} ms | {calls.Errors} " +
             $"| {(c.Drained ? "every agent's 204 (nothing left)" : $"the {Options.ClaimLimit.TotalSeconds:0} s limit")} |");
        line("");
        line("Checked afterwards in the database, as the superuser:");
        line("");
        line("| check | value |");
        line("| --- | ---: |");
        line($"| items claimed (200 answers, warm-up included) | {c.TotalClaims:N0} |");
        line($"| distinct item ids among them | {c.DistinctIds:N0} |");
        line($"| items with an assignee, before → after | {c.AssignedBefore:N0} → {c.AssignedAfter:N0} |");
        line($"| returned ids that have an assignee | {c.ReturnedAndAssigned:N0} |");
        line($"| items with more than one assignee change (`WorkItemChanges`) | {c.ClaimedTwice:N0} |");
        line($"| open, unassigned items left | {c.RemainingOpen:N0} |");
        line($"| **double claims** | **{c.DoubleClaims:N0}** |");
        line($"| database agrees with the answers | {(c.AssignmentsMatch ? "yes" : "**no**")} |");
        line("");

        line("### The bare SQL loop (pgbench)");
        line("");
        if (c.Bare is not { Skipped: null } bare)
        {
            line($"Not measured: {c.Bare?.Skipped ?? "not run"}.");
            line("");
        }
        else
        {
            line($"The app's claim statement alone (`ClaimNextItem` on PostgreSQL, without the kind filter) in a pgbench loop, as the superuser on a fresh");
            line($"table `{BenchDatabase.BareClaimTable}` of {bare.Items:N0} rows made the same way (`CREATE TABLE ... (LIKE \"WorkItems\" INCLUDING DEFAULTS INCLUDING INDEXES)`:");
            line("the same columns and indexes, no RLS), after the app stopped, so it had the machine to itself. It runs as many transactions as the");
            line($"app claimed items ({c.TotalClaims:N0}), so both drain the same pool from the same start. {bare.Clients} clients, not {c.Workers}: each pgbench");
            line($"client is a server connection, and the cluster allows {bare.MaxConnections} (`max_connections`) with room kept for everything else; the app itself reaches");
            line("PostgreSQL through a pool of at most 100 connections (Npgsql's default), so 100 is also the app's concurrency at the database.");
            line("Prepared statements (`-M prepared`); latencies from pgbench's per-transaction log (`-l`).");
            line("");
            line("| clients (-c) | threads (-j) | transactions | tps | latency avg | p50 | p95 | p99 | max | rows claimed |");
            line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            line($"| {bare.Clients} | {bare.Threads} | {bare.Transactions:N0} | {bare.Tps:N0} | {bare.LatencyAverage:0.00} ms | {bare.P50:0.00} ms | {bare.P95:0.00} ms " +
                 $"| {bare.P99:0.00} ms | {bare.Max:0.00} ms | {bare.ClaimedRows:N0} |");
            line("");
            line($"**App / bare: {c.ClaimsPerSecond:N0} claims/s over HTTP ÷ {bare.Tps:N0} tps = {c.RatioToBare:0.00}.** Command: `{bare.Command}`; `claim.sql`:");
            line("");
            line("```");
            line(bare.Script.TrimEnd());
            line("```");
            line("");
            line("Plans (`EXPLAIN (COSTS OFF)`), the bare table as the superuser:");
            line("");
            line("```");
            line(bare.Plan);
            line("```");
            line("");
        }

        line($"the app role on `\"WorkItems\"` under RLS (scope: all {Tenants.Count} tenants), which is what every `POST /api/v1/work/next` runs:");
        line("");
        line("```");
        line(c.Plan);
        line("```");
        line("");
    }

    private void WriteIngestion(Action<string> line)
    {
        var d = Ingestion;
        var r = d.Result;
        line($"## {ApiIngestion.Title}");
        line("");
        line($"{r.Concurrency} clients `POST /api/v1/tenants/{{slug}}/conversations` round-robin over the {Tenants.Count} tenants, each tenant with its integration");
        line("client's access token (`client_credentials`, fetched once); every message has a unique `externalId` and a body of 200 B to 20 KB");
        line("(log-uniform: mostly short, some long); senders repeat (25 per client and tenant), so most messages find their contact and some");
        line("create it. Anything but 201 is an error; afterwards the run counts the items stored under the measured external ids. Each message is");
        line("the app's whole ingestion transaction (contact, item, first message, change, outbox event) plus routing after the commit.");
        line("");
        line("| clients | messages | duration | messages/s | p50 | p95 | p99 | max | errors | mean body | items stored | outbox events waiting at the end |");
        line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        line($"| {r.Concurrency} | {r.Operations:N0} | {r.Elapsed.TotalSeconds:0.0} s | {r.PerSecond:N0} | {r.P50:0.00} ms | {r.P95:0.00} ms | {r.P99:0.00} ms " +
             $"| {r.Max:0.00} ms | {r.Errors} | {d.MeanBodyBytes:N0} B | {d.StoredItems:N0} | {d.OutboxWaiting:N0} |");
        line("");
    }

    private void WriteFanOut(Action<string> line)
    {
        var f = FanOut;
        line($"## {Scenarios.FanOut.Title}");
        line("");
        line($"{f.Clients:N0} SignalR clients connect to `/hubs/agent` over WebSockets (no negotiate; {Scenarios.FanOut.ConnectParallelism} at a time, each within");
        line($"{Scenarios.FanOut.ConnectTimeout.TotalSeconds:0} s), authenticated by personal access tokens made by the app's own `token create`: {f.Users.Count} users serving");
        line($"`{f.Tenant}` ({string.Join(", ", f.Users.Select(u => $"`{u}`"))}), one token each, shared round-robin.");
        line("Every connection announces itself to the tenant's other clients (`QueueStats`); once no client has received anything for a");
        line($"second, events are fired one at a time: `POST /api/v1/tenants/{f.Tenant}/conversations` with the integration client's token, and");
        line("every client records when the item's `WorkItemCreated` reached it. Each event waits until every connected client has it");
        line($"(at most {Scenarios.FanOut.DeliveryTimeout.TotalSeconds:0} s; later ones count as missing), then {Scenarios.FanOut.Spacing.TotalMilliseconds:0} ms, " +
             "so each is measured alone; one unmeasured event goes first.");
        line("A delivery's latency is its receipt minus the moment the API answered 201, and also minus the moment the POST was sent. The relay");
        line("is woken when the item commits, before the app routes it and answers, so a delivery can precede the 201 (a negative figure).");
        line("The clients run in the driver's process, on the same machine: their own receive work is in the figures.");
        line("");
        line("| clients | connected | connect time | events | deliveries expected | received | missing | before the 201 | API answer p50 | errors |");
        line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        line($"| {f.Clients:N0} | {f.Connected:N0} | {f.ConnectTime.TotalSeconds:0.0} s | {f.Events} | {f.Expected:N0} | {f.Received:N0} | {f.Missing + f.WarmupMissing:N0} " +
             $"| {f.BeforeAnswer:N0} | {f.ApiP50:0.00} ms | {f.Errors:N0} |");
        line("");
        line("| delivery latency | p50 | p95 | p99 | max |");
        line("| --- | ---: | ---: | ---: | ---: |");
        foreach (var r in new[] { f.FromAnswer, f.FromSend })
        {
            line($"| {r.Name} | {r.P50:0.00} ms | {r.P95:0.00} ms | {r.P99:0.00} ms | {r.Max:0.00} ms |");
        }

        line("");
    }

    private void WriteTargets(Action<string> line)
    {
        line("## Targets (issue 4, \"Performance\")");
        line("");
        line("| target | goal | measured | met |");
        line("| --- | --- | --- | --- |");
        foreach (var t in Targets)
        {
            line($"| {t.Name} | {t.Goal} | {t.Measured} | {(t.Met ? "yes" : "**no**")} |");
        }

        line("");
    }

    private static string Row(LoadResult r, bool includeName) =>
        (includeName ? $"| {r.Name} " : "") +
        $"| {r.Concurrency} | {r.Operations:N0} | {r.Elapsed.TotalSeconds:0.0} s | {r.PerSecond:N0} | {r.P50:0.00} ms | {r.P95:0.00} ms " +
        $"| {r.P99:0.00} ms | {r.Max:0.00} ms | {r.Errors} |";
}

/// <summary>One of the issue's performance targets, with this run's figure.</summary>
internal sealed record PerformanceTarget(string Name, string Goal, string Measured, bool Met);
