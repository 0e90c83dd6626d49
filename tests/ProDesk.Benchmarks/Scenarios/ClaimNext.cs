using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>What scenario C measured over HTTP, what it verified afterwards, and the bare SQL loop beside it.</summary>
internal sealed record ClaimFindings(
    int Items,
    int Workers,
    IReadOnlyList<string> Users,
    long WarmupClaims,
    LoadResult Calls,
    long Claims,
    long NoContent,
    bool Drained,
    long DistinctIds,
    long AssignedBefore,
    long AssignedAfter,
    long ReturnedAndAssigned,
    long ClaimedTwice,
    long RemainingOpen,
    string Plan,
    PacedClaims Paced)
{
    /// <summary>Every 200 of the run, warm-up and paced phase included: what the database must show as assigned.</summary>
    public long TotalClaims => WarmupClaims + Claims + Paced.Claims;

    /// <summary>The claims of the warm-up and the saturation loop: what the bare SQL loop is sized to.</summary>
    public long ClaimsAtSaturation => Claims;

    /// <summary>Measured claims (200s) per second of the measured loop.</summary>
    public double ClaimsPerSecond => Calls.Elapsed.TotalSeconds > 0 ? Claims / Calls.Elapsed.TotalSeconds : 0;

    /// <summary>
    /// Items that went to two agents: an id returned twice, or an item with two assignee changes in
    /// its audit trail (the app records one per claim). The target is zero.
    /// </summary>
    public long DoubleClaims => TotalClaims - DistinctIds + ClaimedTwice;

    public bool NoDoubleClaims => DoubleClaims == 0;

    /// <summary>
    /// The database agrees with the answers: exactly as many items gained an assignee as the API
    /// answered 200, and every id it returned has one. A claim committed on the server whose answer the
    /// client never got (an error or a timeout) shows here, not as a double claim.
    /// </summary>
    public bool AssignmentsMatch => AssignedAfter - AssignedBefore == TotalClaims && ReturnedAndAssigned == DistinctIds;

    /// <summary>Everything the issue asks of this scenario's correctness: no errors, no double claims, the database agreeing.</summary>
    public bool Passed => Calls.Errors == 0 && Paced.Calls.Errors == 0 && NoDoubleClaims && AssignmentsMatch;

    /// <summary>The bare SQL loop, measured after the app stopped (null until then, or when it could not run).</summary>
    public BareClaimFindings? Bare { get; init; }

    /// <summary>Measured claims/s of the app as a fraction of the bare loop's transactions/s.</summary>
    public double? RatioToBare => Bare is { Skipped: null, Tps: > 0 } bare ? ClaimsPerSecond / bare.Tps : null;
}

/// <summary>
/// C's paced phase: <see cref="Agents"/> agents each claim at exponential intervals (an open loop), topped up to
/// <see cref="OpenAtStart"/> open items first. Latency counts from each call's scheduled moment, so a slow answer
/// that delays an agent's next call shows in that call's latency too (no coordinated omission).
/// </summary>
internal sealed record PacedClaims(int Agents, TimeSpan MeanInterval, long OpenAtStart, LoadResult Calls, long Claims)
{
    public double OfferedPerSecond => Agents / MeanInterval.TotalSeconds;
}

/// <summary>
/// Scenario C, claim-next: open, unassigned items are inserted as the superuser, then W concurrent
/// agents call <c>POST /api/v1/work/next</c> over HTTP until it answers 204 (or the time limit), every
/// call timed. Afterwards the database is asked whether any item went to two agents.
/// The app's claim is one <c>UPDATE ... WHERE "Id" = (SELECT ... FOR UPDATE SKIP LOCKED)</c>; the bare
/// loop (<see cref="BareClaimLoop"/>) runs the same statement through pgbench for comparison.
/// </summary>
internal static class ClaimNext
{
    public const string Title = "C. Claim-next";

    /// <summary>Staff who serve all four demo tenants: each gets one personal access token, shared by the workers round-robin.</summary>
    public static readonly IReadOnlyList<string> Users = ["agent1@prodesk.test", "supervisor@prodesk.test"];

    /// <summary>Unmeasured warm-up before the clock starts: this many workers claim <see cref="WarmupClaimsPerWorker"/> items each.</summary>
    public static int WarmupWorkers(BenchOptions options) => Math.Min(options.ClaimWorkers, options.Smoke ? 4 : 16);

    // Enough calls for .NET's tiered compilation to finish the claim path (ten each left it compiling through the measured loop).
    public static int WarmupClaimsPerWorker(BenchOptions options) => options.Smoke ? 5 : 300;

    private static readonly Uri NextPath = new("api/v1/work/next", UriKind.Relative);
    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(30);

    /// <summary>The claim statement of <c>ClaimNextItem</c> (no kind filter), with literals, on <paramref name="table"/>.</summary>
    public static string Statement(string table, IReadOnlyList<BenchTenant> tenants, string assignee) =>
        $"UPDATE {table} SET \"AssigneeId\" = {assignee}, \"Version\" = \"Version\" + 1, \"UpdatedAt\" = now() WHERE \"Id\" = (" +
        $"SELECT \"Id\" FROM {table} WHERE \"TenantId\" = ANY ('{{{string.Join(',', tenants.Select(t => t.Id))}}}'::uuid[]) " +
        "AND \"Status\" = 'Open' AND \"AssigneeId\" IS NULL ORDER BY \"Priority\" DESC, \"DueAt\", \"CreatedAt\", \"Id\" LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING \"Id\";";

    public static async Task<ClaimFindings> RunAsync(
        Uri baseAddress, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        var preparing = Stopwatch.StartNew();
        await database.AddOpenItemsAsync("WorkItems", options.ClaimItems, cancellationToken);
        var tokens = await Task.WhenAll(Users.Select(user => AppCli.CreateTokenAsync(database, user, cancellationToken)));
        var headers = tokens.Select(token => new AuthenticationHeaderValue("Bearer", token)).ToArray();
        var plan = await database.PlanAsync(
            Statement("\"WorkItems\"", tenants, $"'{Guid.Empty}'"), [.. tenants.Select(t => t.Id)], cancellationToken);
        var assignedBefore = await database.CountAsync("""SELECT count(*) FROM "WorkItems" WHERE "AssigneeId" IS NOT NULL""", cancellationToken);
        Console.WriteLine($"  {options.ClaimItems:N0} open items inserted, {tokens.Length} personal access tokens ({string.Join(", ", Users)}) " +
                          $"in {preparing.Elapsed.TotalSeconds:0.0} s");

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            MaxConnectionsPerServer = options.ClaimWorkers,
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress, Timeout = HangGrace };

        // Every agent's keep-alive connection is open before the clock starts, as a console's would be.
        await Task.WhenAll(Enumerable.Range(0, options.ClaimWorkers).Select(async _ =>
        {
            using var response = await http.GetAsync(new Uri("health/live", UriKind.Relative), cancellationToken);
            response.EnsureSuccessStatusCode();
        }));

        var ids = new List<Guid>[options.ClaimWorkers];
        // Unmeasured warm-up (JIT, query caches, connection pools): a few workers claim a few items each.
        var warmup = await LoopAsync(
            "warm-up", http, headers, WarmupWorkers(options), TimeSpan.FromSeconds(30), WarmupClaimsPerWorker(options), new List<Guid>[WarmupWorkers(options)], cancellationToken);
        if (warmup.Result.Errors > 0)
        {
            throw new InvalidOperationException($"claim warm-up failed: {warmup.Result.FirstError}");
        }

        // The measured loop starts from the full pool, as the bare loop does.
        await TopUpAsync(database, options, cancellationToken);

        var measured = await LoopAsync(Title, http, headers, options.ClaimWorkers, options.ClaimLimit, int.MaxValue, ids, cancellationToken);
        Console.WriteLine($"  saturation: {measured.Result.Summary}");

        // The latency target is for agents working at a pace, not for a queue of callers that never stops:
        // at saturation a closed loop's latency is just agents / throughput (Little's law).
        var open = await TopUpAsync(database, options, cancellationToken);

        var pacedIds = new List<Guid>[options.ClaimWorkers];
        var paced = await PacedAsync(http, headers, options.ClaimWorkers, options.ClaimPacedInterval, options.ClaimPacedDuration, pacedIds, cancellationToken);
        Console.WriteLine($"  paced: {paced.Result.Summary}");
        var all = warmup.Ids.Concat(ids.SelectMany(l => l ?? [])).Concat(pacedIds.SelectMany(l => l ?? [])).ToArray();

        var findings = new ClaimFindings(
            options.ClaimItems,
            options.ClaimWorkers,
            Users,
            warmup.Claims,
            measured.Result,
            measured.Claims,
            measured.NoContent,
            measured.Drained,
            all.Distinct().LongCount(),
            assignedBefore,
            await database.CountAsync("""SELECT count(*) FROM "WorkItems" WHERE "AssigneeId" IS NOT NULL""", cancellationToken),
            await database.CountAsync("""SELECT count(*) FROM "WorkItems" WHERE "AssigneeId" IS NOT NULL AND "Id" = ANY(@ids)""", cancellationToken, ("ids", all)),
            await database.CountAsync("""
                SELECT count(*) FROM (SELECT "WorkItemId" FROM "WorkItemChanges" WHERE "Field" = 'assignee' GROUP BY "WorkItemId" HAVING count(*) > 1) AS twice
                """, cancellationToken),
            await database.CountAsync("""SELECT count(*) FROM "WorkItems" WHERE "Status" = 'Open' AND "AssigneeId" IS NULL""", cancellationToken),
            plan,
            new PacedClaims(options.ClaimWorkers, options.ClaimPacedInterval, Math.Max(open, options.ClaimItems), paced.Result, paced.Claims));
        Console.WriteLine($"  {Summary(findings)}");
        return findings;
    }

    /// <summary>Adds open, unassigned items up to <see cref="BenchOptions.ClaimItems"/>; returns how many were open before.</summary>
    private static async Task<long> TopUpAsync(BenchDatabase database, BenchOptions options, CancellationToken cancellationToken)
    {
        var open = await database.CountAsync("""SELECT count(*) FROM "WorkItems" WHERE "Status" = 'Open' AND "AssigneeId" IS NULL""", cancellationToken);
        if (open < options.ClaimItems)
        {
            await database.AddOpenItemsAsync("WorkItems", (int)(options.ClaimItems - open), cancellationToken);
        }

        return open;
    }

    public static string Summary(ClaimFindings c) =>
        $"{c.Claims:N0} claims (+{c.WarmupClaims:N0} warm-up) by {c.Workers} agents in {c.Calls.Elapsed.TotalSeconds:0.0} s = {c.ClaimsPerSecond:N0}/s " +
        $"({(c.Drained ? "drained: every agent got its 204" : "stopped at the time limit")}); {c.Calls.Operations:N0} calls, " +
        $"p50 {c.Calls.P50:0.00} ms, p95 {c.Calls.P95:0.00} ms, p99 {c.Calls.P99:0.00} ms, max {c.Calls.Max:0.00} ms; errors {c.Calls.Errors}" +
        (c.Calls.FirstError is null ? "" : $" (first: {c.Calls.FirstError})") +
        $"; {c.DistinctIds:N0} distinct ids, {c.AssignedAfter - c.AssignedBefore:N0} newly assigned in the database, {c.ClaimedTwice} items with two assignee changes " +
        $"=> {(c.NoDoubleClaims ? "no double claims" : $"{c.DoubleClaims} DOUBLE CLAIMS")}, " +
        $"{(c.AssignmentsMatch ? "database agrees with the answers" : "DATABASE AND ANSWERS DISAGREE")}; {c.RemainingOpen:N0} open unassigned left; " +
        $"paced ({c.Paced.OfferedPerSecond:N0}/s offered): {c.Paced.Claims:N0} claims, p50 {c.Paced.Calls.P50:0.00} ms, p99 {c.Paced.Calls.P99:0.00} ms, errors {c.Paced.Calls.Errors}";

    private sealed record LoopResult(LoadResult Result, long Claims, long NoContent, bool Drained, IReadOnlyList<Guid> Ids);

    /// <summary>
    /// <paramref name="workers"/> agents each claim until 204, <paramref name="perWorker"/> claims, or
    /// <paramref name="limit"/>; every call is timed (the closing 204s included). Bounded in time (a
    /// hard stop <see cref="HangGrace"/> after the limit cancels hung calls) and in count.
    /// </summary>
    private static async Task<LoopResult> LoopAsync(
        string name, HttpClient http, AuthenticationHeaderValue[] tokens, int workers, TimeSpan limit, int perWorker, List<Guid>[] ids, CancellationToken cancellationToken)
    {
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(limit + HangGrace);
        var latencies = new List<long>[workers];
        long issued = 0, claims = 0, noContent = 0, errors = 0, drainedWorkers = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();

        async Task WorkAsync(int index)
        {
            var mine = latencies[index] = new List<long>(capacity: 1024);
            var claimed = ids[index] = new List<Guid>(capacity: 1024);
            var token = tokens[index % tokens.Length];
            while (claimed.Count < perWorker && Stopwatch.GetElapsedTime(start) < limit && !hardStop.IsCancellationRequested
                   && Interlocked.Increment(ref issued) <= LoadLoop.MaxOperations)
            {
                var began = Stopwatch.GetTimestamp();
                var (status, id, error) = await ClaimOnceAsync(http, token, hardStop.Token, cancellationToken);
                mine.Add(Stopwatch.GetTimestamp() - began);
                var done = false;
                if (id is { } claimedId)
                {
                    claimed.Add(claimedId);
                    Interlocked.Increment(ref claims);
                }
                else if (status == HttpStatusCode.NoContent)
                {
                    Interlocked.Increment(ref noContent);
                    Interlocked.Increment(ref drainedWorkers);
                    done = true;
                }

                if (error is not null)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }

                if (done)
                {
                    return;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(i => Task.Run(() => WorkAsync(i), CancellationToken.None)));
        var elapsed = Stopwatch.GetElapsedTime(start);
        cancellationToken.ThrowIfCancellationRequested();
        return new LoopResult(
            LoadLoop.Summarise(name, workers, elapsed, errors, firstError, latencies),
            claims,
            noContent,
            drainedWorkers == workers,
            [.. ids.Take(workers).SelectMany(l => l ?? [])]);
    }

    /// <summary>One POST /api/v1/work/next: its status, the claimed id on a 200, or what went wrong.</summary>
    private static async Task<(HttpStatusCode? Status, Guid? Id, string? Error)> ClaimOnceAsync(
        HttpClient http, AuthenticationHeaderValue token, CancellationToken hardStop, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, NextPath);
            request.Headers.Authorization = token;
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, hardStop);
            var body = await response.Content.ReadAsByteArrayAsync(hardStop);
            return response.StatusCode switch
            {
                HttpStatusCode.OK when ItemId(body) is { } id => (response.StatusCode, id, null),
                HttpStatusCode.NoContent => (response.StatusCode, null, null),
                _ => (response.StatusCode, null, $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)))}"),
            };
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return (null, null, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// The paced phase: each agent claims at exponential intervals of mean <paramref name="meanInterval"/> (seeded per agent,
    /// so runs repeat) for <paramref name="duration"/>; latency from the scheduled moment. A 204 here (nothing left) is an error:
    /// the phase starts with the pool topped up. Bounded in time and count.
    /// </summary>
    private static async Task<LoopResult> PacedAsync(
        HttpClient http, AuthenticationHeaderValue[] tokens, int agents, TimeSpan meanInterval, TimeSpan duration, List<Guid>[] ids, CancellationToken cancellationToken)
    {
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(duration + HangGrace);
        var latencies = new List<long>[agents];
        long claims = 0, errors = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();

        async Task AgentAsync(int index)
        {
            var random = new Random(index);
            var mine = latencies[index] = new List<long>(capacity: 256);
            var claimed = ids[index] = new List<Guid>(capacity: 256);
            var token = tokens[index % tokens.Length];
            var next = random.NextDouble() * meanInterval.TotalSeconds;
            for (var call = 0; next < duration.TotalSeconds && call < 100_000 && !hardStop.IsCancellationRequested; call++)
            {
                var wait = TimeSpan.FromSeconds(next) - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, hardStop.Token);
                }

                var scheduled = start + (long)(next * Stopwatch.Frequency);
                var (status, id, error) = await ClaimOnceAsync(http, token, hardStop.Token, cancellationToken);
                mine.Add(Stopwatch.GetTimestamp() - scheduled);
                if (id is { } claimedId)
                {
                    claimed.Add(claimedId);
                    Interlocked.Increment(ref claims);
                }
                else
                {
                    error ??= $"{(int?)status}: nothing left to claim in the paced phase";
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }

                next += -Math.Log(1 - random.NextDouble()) * meanInterval.TotalSeconds;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, agents).Select(i => Task.Run(() => AgentAsync(i), CancellationToken.None)));
        var elapsed = Stopwatch.GetElapsedTime(start);
        cancellationToken.ThrowIfCancellationRequested();
        return new LoopResult(LoadLoop.Summarise("C. claim-next, paced", agents, elapsed, errors, firstError, latencies), claims, 0, false, []);
    }

    private static Guid? ItemId(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("id", out var id) && id.TryGetGuid(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
