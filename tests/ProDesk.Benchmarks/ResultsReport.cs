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
    LoadResult TenantPages,
    RlsFindings Rls)
{
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
             $" (demo seed + {Options.ContactsPerTenant:N0} added per tenant before measuring)");
        Line($"- Each scenario: {Options.Concurrency} concurrent workers in a closed loop, {Options.Warmup.TotalSeconds:0.#} s unmeasured warm-up, " +
             $"then {Options.Duration.TotalSeconds:0.#} s measured; every latency recorded (nearest-rank percentiles)");
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
        return md.ToString();
    }

    private static string Row(LoadResult r, bool includeName) =>
        (includeName ? $"| {r.Name} " : "") +
        $"| {r.Concurrency} | {r.Operations:N0} | {r.Elapsed.TotalSeconds:0.0} s | {r.PerSecond:N0} | {r.P50:0.00} ms | {r.P95:0.00} ms " +
        $"| {r.P99:0.00} ms | {r.Max:0.00} ms | {r.Errors} |";
}
