using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>What scenario D measured, and what the database holds afterwards.</summary>
/// <param name="Result">The saturation loop: how many messages a second the app takes at most (the throughput target).</param>
/// <param name="PacedPhase">The paced phase at the target's rate: the latency a sender sees at that rate (the p95 target).</param>
internal sealed record IngestFindings(LoadResult Result, PacedResult PacedPhase, double MeanBodyBytes, long StoredItems, long OutboxWaiting)
{
    public LoadResult Paced => PacedPhase.Result;

    public double OfferedPerSecond => PacedPhase.OfferedPerSecond;

    /// <summary>Every 201 is one stored item, and nothing else was stored under the run's external ids.</summary>
    public bool AllStored => StoredItems == Result.Operations - Result.Errors + Paced.Operations - Paced.Errors;

    public long Errors => Result.Errors + Paced.Errors;
}

/// <summary>
/// Scenario D, ingestion through the API channel: K integration clients (one OAuth client-credentials
/// token per tenant) POST new conversations round-robin over the tenants, each with a unique
/// externalId and a body of 200 B to 20 KB (log-uniform, so small messages are the common case).
/// Senders repeat, so most messages find their contact and some create it; each worker has its own
/// senders. Anything but 201 is an error. A closed loop measures the most the app takes; then a paced phase offers
/// exactly the target's rate (an open loop) and measures the latency senders see at it, as C does for claims.
/// Afterwards the run counts the stored items.
/// </summary>
internal static class ApiIngestion
{
    public const string Title = "D. Ingestion through the API channel";

    /// <summary>Bodies from 200 B to 20 KB, log-uniform; G's mails use the same sizes and text.</summary>
    public const int MinBody = 200;

    public const int MaxBody = 20_000;

    /// <summary>Distinct senders per worker and tenant.</summary>
    private const int SendersPerWorker = 25;

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    /// <summary>Plain text to cut bodies from (ASCII words, spaces and ".\n": characters are bytes); G's mails and its bare loop use it too.</summary>
    public static readonly string Text = MakeText();

    public static async Task<IngestFindings> RunAsync(
        Uri baseAddress, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = Math.Max(options.IngestWorkers, options.IngestPacedClients),
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

        var targets = new List<Target>();
        foreach (var tenant in tenants)
        {
            targets.Add(new Target(
                tenant.Slug,
                new Uri($"api/v1/tenants/{tenant.Slug}/conversations", UriKind.Relative),
                new AuthenticationHeaderValue("Bearer", await IntegrationTokenAsync(http, tenant.Slug, cancellationToken))));
        }

        var pool = targets.ToArray();
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        if (options.IngestWarmup > TimeSpan.Zero)
        {
            var warmup = new Totals();
            await LoadLoop.RunAsync("warm-up", options.IngestWorkers, options.IngestWarmup,
                (i, _) => Task.FromResult<ILoadWorker>(new Worker(http, pool, i, $"bench-{run}-w", warmup)), cancellationToken);
        }

        await database.AnalyzeAsync(cancellationToken);

        var totals = new Totals();
        var prefix = $"bench-{run}-m";
        var result = await LoadLoop.RunAsync(Title, options.IngestWorkers, options.IngestDuration,
            (i, _) => Task.FromResult<ILoadWorker>(new Worker(http, pool, i, prefix, totals)), cancellationToken);
        Console.WriteLine($"  {result.Summary}");
        var paced = await LoadLoop.RunPacedAsync($"{Title}, paced", options.IngestPacedClients, options.IngestPacedPerSecond, options.IngestDuration,
            (i, _) => Task.FromResult<ILoadWorker>(new Worker(http, pool, i, prefix + "p", totals)), cancellationToken);
        Console.WriteLine($"  {paced.Result.Summary} ({options.IngestPacedPerSecond:N0}/s offered, {paced.Unsent:N0} not sent)");
        var stored = await database.CountAsync(
            """SELECT count(*) FROM "WorkItems" WHERE "Channel" = 'api' AND "ExternalId" LIKE @prefix""", cancellationToken, ("prefix", prefix + "%"));
        var waiting = await database.CountAsync("""SELECT count(*) FROM "OutboxEvents" WHERE "PublishedAt" IS NULL""", cancellationToken);
        var findings = new IngestFindings(result, paced, totals.Messages == 0 ? 0 : (double)totals.Bytes / totals.Messages, stored, waiting);
        Console.WriteLine($"  mean body {findings.MeanBodyBytes:N0} B; {stored:N0} items stored; {waiting:N0} outbox events waiting at the end");
        return findings;
    }

    /// <summary>An access token for the tenant's integration client (client credentials, secret from tenants-seed); E uses it too.</summary>
    public static async Task<string> IntegrationTokenAsync(HttpClient http, string slug, CancellationToken cancellationToken)
    {
        var clientFile = Path.Combine(Repository.SeedDirectory, slug, "clients.json");
        using var client = JsonDocument.Parse(await File.ReadAllTextAsync(clientFile, cancellationToken));
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client.RootElement.GetProperty("clientId").GetString()!,
            ["client_secret"] = client.RootElement.GetProperty("clientSecret").GetString()!,
            ["scope"] = "api",
        });
        using var response = await http.PostAsync(new Uri("connect/token", UriKind.Relative), form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"POST /connect/token for {slug}-integration answered {(int)response.StatusCode}: {body}");
        }

        using var token = JsonDocument.Parse(body);
        return token.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Log-uniform 200 B .. 20 KB: mostly short messages, some long ones.</summary>
    public static int BodySize(Random random) => LogUniform(random, MinBody, MaxBody);

    /// <summary>A size between <paramref name="min"/> and <paramref name="max"/> whose logarithm is uniform.</summary>
    public static int LogUniform(Random random, int min, int max) => (int)Math.Round(min * Math.Pow((double)max / min, random.NextDouble()));

    private static string MakeText()
    {
        string[] words = ["order", "delivery", "invoice", "refund", "account", "please", "thank", "you", "the", "parcel", "arrived", "damaged",
            "could", "check", "status", "number", "since", "last", "week", "still", "waiting", "for", "an", "answer", "and", "reference"];
        var random = new Random(42);
        var text = new StringBuilder(MaxBody + 32);
        while (text.Length < MaxBody)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(12) == 0 ? ".\n" : " ");
        }

        return text.ToString(0, MaxBody);
    }

    private sealed record Target(string Slug, Uri Path, AuthenticationHeaderValue Token);

    private sealed class Totals
    {
        private long messages;
        private long bytes;

        public long Messages => Interlocked.Read(ref messages);

        public long Bytes => Interlocked.Read(ref bytes);

        public void Add(int size)
        {
            Interlocked.Increment(ref messages);
            Interlocked.Add(ref bytes, size);
        }
    }

    private sealed class Worker(HttpClient http, Target[] targets, int index, string prefix, Totals totals) : ILoadWorker
    {
        private readonly Random random = new(index * 7919 + 17);
        private long sequence;

        public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
        {
            var n = sequence++;
            var target = targets[(int)((index + n) % targets.Length)];
            var size = BodySize(random);
            var sender = n % SendersPerWorker;
            var payload = JsonSerializer.SerializeToUtf8Bytes(new
            {
                from = $"sender{sender}.w{index}@{target.Slug}-ingest.bench.test",
                name = $"Sender {sender} of worker {index}",
                subject = $"Bench message {n} from worker {index}",
                body = Text[..size],
                externalId = $"{prefix}-{index}-{n}",
            });
            using var content = new ByteArrayContent(payload);
            content.Headers.ContentType = Json;
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Path) { Content = content };
            request.Headers.Authorization = target.Token;
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new HttpRequestException($"{(int)response.StatusCode} for {target.Slug}: {body[..Math.Min(body.Length, 300)]}");
            }

            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            totals.Add(size);
            return true;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
