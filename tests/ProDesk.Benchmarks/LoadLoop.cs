using System.Diagnostics;

namespace ProDesk.Benchmarks;

/// <summary>One worker of a load loop: its own connection or client state, one operation per call.</summary>
internal interface ILoadWorker : IAsyncDisposable
{
    /// <summary>Runs the operation once; false (or an exception) counts as an error.</summary>
    ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>What one load loop measured. Latencies in milliseconds.</summary>
internal sealed record LoadResult(
    string Name,
    int Concurrency,
    long Operations,
    long Errors,
    TimeSpan Elapsed,
    double P50,
    double P95,
    double P99,
    double Max,
    string? FirstError)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public string Summary =>
        $"{Name}: {Operations:N0} ops in {Elapsed.TotalSeconds:0.0} s = {PerSecond:N0}/s; " +
        $"p50 {P50:0.00} ms, p95 {P95:0.00} ms, p99 {P99:0.00} ms, max {Max:0.00} ms; errors {Errors}" +
        (FirstError is null ? "" : $" (first: {FirstError})");
}

/// <summary>What a paced loop measured: the operations it sent, the rate it offered, and those it gave up sending.</summary>
internal sealed record PacedResult(LoadResult Result, double OfferedPerSecond, long Unsent);

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers each run their operation back to back until the
/// duration is over or the operation budget is spent, recording every latency. Bounded in count
/// and in time: a hard deadline cancels operations that hang.
/// </summary>
internal static class LoadLoop
{
    /// <summary>No scenario runs more operations than this, whatever the duration.</summary>
    public const long MaxOperations = 20_000_000;

    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(30);

    /// <summary>How far behind its schedule a paced loop stops sending: a server that slow has failed the rate already.</summary>
    public static readonly TimeSpan GiveUpLate = TimeSpan.FromSeconds(10);

    public static async Task<LoadResult> RunAsync(
        string name,
        int concurrency,
        TimeSpan duration,
        Func<int, CancellationToken, Task<ILoadWorker>> createWorker,
        CancellationToken cancellationToken)
    {
        return await WithWorkersAsync(concurrency, createWorker, async workers =>
        {
            using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            hardStop.CancelAfter(duration + HangGrace);

            var issued = 0L;
            var errors = 0L;
            string? firstError = null;
            var latencies = new List<long>[concurrency];
            var start = Stopwatch.GetTimestamp();

            async Task WorkAsync(int index)
            {
                var mine = latencies[index] = new List<long>(capacity: 4096);
                var worker = workers[index];
                while (Stopwatch.GetElapsedTime(start) < duration && !hardStop.IsCancellationRequested
                       && Interlocked.Increment(ref issued) <= MaxOperations)
                {
                    var began = Stopwatch.GetTimestamp();
                    var error = await ErrorOfAsync(worker, hardStop.Token, cancellationToken);
                    mine.Add(Stopwatch.GetTimestamp() - began);
                    if (error is not null)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, error, null);
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => Task.Run(() => WorkAsync(i), CancellationToken.None)));
            var elapsed = Stopwatch.GetElapsedTime(start);
            cancellationToken.ThrowIfCancellationRequested();

            return Summarise(name, concurrency, elapsed, errors, firstError, latencies);
        }, cancellationToken);
    }

    /// <summary>
    /// Open-loop load at a fixed offered rate: <c>clients</c> workers each start an operation at exponential intervals
    /// (seeded per worker, so runs repeat) whose mean makes <paramref name="perSecond"/> in all, for
    /// <paramref name="duration"/>. Latency counts from each operation's scheduled moment, so an answer that comes late
    /// also delays, and is charged to, the worker's next operation: a server that cannot keep the rate shows it in every
    /// percentile instead of quietly lowering the rate (no coordinated omission). Bounded in count and in time: once the
    /// loop is <see cref="GiveUpLate"/> behind its schedule, the operations still due are counted as not sent.
    /// </summary>
    public static async Task<PacedResult> RunPacedAsync(
        string name,
        int clients,
        double perSecond,
        TimeSpan duration,
        Func<int, CancellationToken, Task<ILoadWorker>> createWorker,
        CancellationToken cancellationToken)
    {
        return await WithWorkersAsync(clients, createWorker, async workers =>
        {
            using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            hardStop.CancelAfter(duration + HangGrace);
            var meanInterval = clients / perSecond;
            var issued = 0L;
            var unsent = 0L;
            var errors = 0L;
            string? firstError = null;
            var latencies = new List<long>[clients];
            var start = Stopwatch.GetTimestamp();

            async Task WorkAsync(int index)
            {
                var random = new Random(index * 7919 + 29);
                var mine = latencies[index] = new List<long>(capacity: 1024);
                var worker = workers[index];
                var next = random.NextDouble() * meanInterval;
                while (next < duration.TotalSeconds && !hardStop.IsCancellationRequested && Interlocked.Increment(ref issued) <= MaxOperations)
                {
                    var wait = TimeSpan.FromSeconds(next) - Stopwatch.GetElapsedTime(start);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, hardStop.Token);
                    }
                    else if (-wait > GiveUpLate)
                    {
                        Interlocked.Increment(ref unsent);
                        next += -Math.Log(1 - random.NextDouble()) * meanInterval;
                        continue;
                    }

                    var scheduled = start + (long)(next * Stopwatch.Frequency);
                    var error = await ErrorOfAsync(worker, hardStop.Token, cancellationToken);
                    mine.Add(Stopwatch.GetTimestamp() - scheduled);
                    if (error is not null)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, error, null);
                    }

                    next += -Math.Log(1 - random.NextDouble()) * meanInterval;
                }
            }

            await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => WorkAsync(i), CancellationToken.None)));
            var elapsed = Stopwatch.GetElapsedTime(start);
            cancellationToken.ThrowIfCancellationRequested();
            return new PacedResult(Summarise(name, clients, elapsed, errors, firstError, latencies), perSecond, unsent);
        }, cancellationToken);
    }

    /// <summary>Creates the workers (they open their connections and prepare their statements before any clock starts), runs, disposes them.</summary>
    private static async Task<T> WithWorkersAsync<T>(
        int count, Func<int, CancellationToken, Task<ILoadWorker>> createWorker, Func<ILoadWorker[], Task<T>> run, CancellationToken cancellationToken)
    {
        var workers = new ILoadWorker[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                workers[i] = await createWorker(i, cancellationToken);
            }

            return await run(workers);
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (worker is not null)
                {
                    await worker.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Runs one operation; what went wrong with it, or null when it succeeded.</summary>
    private static async Task<string?> ErrorOfAsync(ILoadWorker worker, CancellationToken hardStop, CancellationToken cancellationToken)
    {
        try
        {
            return await worker.RunOnceAsync(hardStop) ? null : "unexpected result";
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>The figures of one loop from every worker's recorded latencies (Stopwatch ticks).</summary>
    public static LoadResult Summarise(string name, int concurrency, TimeSpan elapsed, long errors, string? firstError, IEnumerable<List<long>?> latencies)
    {
        var all = latencies.SelectMany(l => l ?? []).ToArray();
        Array.Sort(all);
        return new LoadResult(
            name,
            concurrency,
            all.LongLength,
            errors,
            elapsed,
            Percentile(all, 0.50),
            Percentile(all, 0.95),
            Percentile(all, 0.99),
            all.Length == 0 ? 0 : ToMilliseconds(all[^1]),
            firstError);
    }

    /// <summary>Nearest-rank percentile of sorted Stopwatch tick counts, in milliseconds.</summary>
    public static double Percentile(long[] sorted, double quantile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(quantile * sorted.Length);
        return ToMilliseconds(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)]);
    }

    public static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
