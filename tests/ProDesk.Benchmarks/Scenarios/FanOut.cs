using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>
/// What scenario E measured. <see cref="FromAnswer"/> and <see cref="FromSend"/> hold one latency per
/// delivery (an event received by one client): receipt minus the moment the API answered 201, and
/// receipt minus the moment the POST was sent. Their Operations are the deliveries received.
/// </summary>
internal sealed record FanOutFindings(
    string Tenant,
    IReadOnlyList<string> Users,
    int Clients,
    int Connected,
    TimeSpan ConnectTime,
    long ConnectFailures,
    long SettleMessages,
    TimeSpan SettleTime,
    int Events,
    long PostErrors,
    long Expected,
    long WarmupMissing,
    long Missing,
    long BeforeAnswer,
    int StillConnected,
    double ApiP50,
    LoadResult FromAnswer,
    LoadResult FromSend,
    string? FirstError)
{
    /// <summary>Deliveries received within the time allowed per event.</summary>
    public long Received => FromAnswer.Operations;

    /// <summary>A client that did not connect, a POST that did not answer 201, a delivery that did not arrive: each is an error.</summary>
    public long Errors => ConnectFailures + PostErrors + WarmupMissing + Missing;

    public bool Passed => Errors == 0;
}

/// <summary>
/// Scenario E, fan-out: N SignalR clients connect to <c>/hubs/agent</c> (WebSockets, personal access
/// tokens of a few demo agents serving the target tenant, shared round-robin), then events are fired
/// one at a time by creating a conversation through the API channel (as scenario D does). Every client
/// records when it received the item's <c>WorkItemCreated</c>; each event waits until every client has
/// it (or a time limit), then a pause, so each is measured alone. One unmeasured event goes first.
/// </summary>
internal static class FanOut
{
    public const string Title = "E. Fan-out to hub clients";

    /// <summary>The tenant whose events the clients wait for; every user below serves it.</summary>
    public const string TargetTenant = "acme";

    /// <summary>Demo staff serving <see cref="TargetTenant"/>: one personal access token each, shared round-robin by the clients.</summary>
    public static readonly IReadOnlyList<string> Users = ["agent1@prodesk.test", "agent2@prodesk.test", "supervisor@prodesk.test"];

    /// <summary>Clients connecting at once.</summary>
    public const int ConnectParallelism = 50;

    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>An event's deliveries that have not arrived after this long count as missing.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Pause after each event, so the next is measured alone.</summary>
    public static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(500);

    /// <summary>After connecting, the clients are idle once no message arrived for this long (at most <see cref="SettleLimit"/>).</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ConnectPhaseLimit = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    /// <summary>The other events of /hubs/agent a client of the tenant gets.</summary>
    private static readonly string[] OtherEvents = ["WorkItemUpdated", "WorkItemAssigned", "QueueStats"];

    public static async Task<FanOutFindings> RunAsync(
        Uri baseAddress, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        var tenant = tenants.SingleOrDefault(t => t.Slug == TargetTenant)
                     ?? throw new InvalidOperationException($"scenario E needs the demo tenant {TargetTenant}");
        var preparing = Stopwatch.StartNew();
        var tokens = await Task.WhenAll(Users.Select(user => AppCli.CreateTokenAsync(database, user, cancellationToken)));

        using var handler = new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var path = new Uri($"api/v1/tenants/{tenant.Slug}/conversations", UriKind.Relative);
        var integration = new AuthenticationHeaderValue("Bearer", await ApiIngestion.IntegrationTokenAsync(http, tenant.Slug, cancellationToken));
        Console.WriteLine($"  {tokens.Length} personal access tokens ({string.Join(", ", Users)}) and {tenant.Slug}'s integration token " +
                          $"in {preparing.Elapsed.TotalSeconds:0.0} s");

        var board = new Board(options.FanOutClients);
        var connections = new HubConnection?[options.FanOutClients];
        try
        {
            // Connect, at most ConnectParallelism at a time, each bounded; a client that fails is an error.
            var connecting = Stopwatch.StartNew();
            var connectFailures = 0L;
            string? firstError = null;
            using (var connectLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectLimit.CancelAfter(ConnectPhaseLimit);
                await Parallel.ForEachAsync(
                    Enumerable.Range(0, options.FanOutClients),
                    new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = cancellationToken },
                    async (i, _) =>
                    {
                        var connection = connections[i] = Connect(baseAddress, tokens[i % tokens.Length], board, i);
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connectLimit.Token);
                        timeout.CancelAfter(ConnectTimeout);
                        try
                        {
                            await connection.StartAsync(timeout.Token);
                        }
                        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                        {
                            Interlocked.Increment(ref connectFailures);
                            Interlocked.CompareExchange(ref firstError, $"connect: {e.GetType().Name}: {e.Message}", null);
                        }
                    });
            }

            var connectTime = connecting.Elapsed;
            var connected = connections.Count(c => c?.State == HubConnectionState.Connected);
            Console.WriteLine($"  {connected:N0} of {options.FanOutClients:N0} clients connected in {connectTime.TotalSeconds:0.0} s " +
                              $"({ConnectParallelism} at a time, WebSockets){(connectFailures > 0 ? $"; {connectFailures} failed (first: {firstError})" : "")}");

            // Each connection announces itself to the tenant's other clients (QueueStats): wait until they are quiet.
            var settling = Stopwatch.StartNew();
            long seen;
            do
            {
                seen = board.Messages;
                await Task.Delay(Quiet, cancellationToken);
            }
            while (board.Messages != seen && settling.Elapsed < SettleLimit);

            var settleTime = settling.Elapsed;
            Console.WriteLine($"  clients quiet after {settleTime.TotalSeconds:0.0} s ({board.Messages:N0} messages received while connecting)");
            board.Expected = connected;

            var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            var postErrors = 0L;
            var missing = 0L;
            var beforeAnswer = 0L;
            var fromAnswer = new List<long>(connected * options.FanOutEvents);
            var fromSend = new List<long>(connected * options.FanOutEvents);
            var answers = new List<long>(options.FanOutEvents);

            // One unmeasured event first (JIT on both sides); its missing deliveries still count as errors.
            var warmup = await FireAsync(http, path, integration, board, $"bench-{run}-fanout-warmup", cancellationToken);
            var warmupMissing = warmup.Error is null ? connected - warmup.Received.Count : 0;
            firstError ??= warmup.Error ?? (warmupMissing > 0 ? $"warm-up event: {warmupMissing} of {connected} deliveries missing after {DeliveryTimeout.TotalSeconds:0} s" : null);
            postErrors += warmup.Error is null ? 0 : 1;
            await Task.Delay(Spacing, cancellationToken);

            var measuring = Stopwatch.StartNew();
            for (var n = 0; n < options.FanOutEvents; n++)
            {
                var fired = await FireAsync(http, path, integration, board, $"bench-{run}-fanout-{n}", cancellationToken);
                if (fired.Error is not null)
                {
                    postErrors++;
                    firstError ??= fired.Error;
                }
                else
                {
                    answers.Add(fired.Answered - fired.Sent);
                    foreach (var at in fired.Received)
                    {
                        fromAnswer.Add(at - fired.Answered);
                        fromSend.Add(at - fired.Sent);
                        beforeAnswer += at < fired.Answered ? 1 : 0;
                    }

                    var lacking = connected - fired.Received.Count;
                    missing += lacking;
                    if (lacking > 0)
                    {
                        firstError ??= $"event {n}: {lacking} of {connected} deliveries missing after {DeliveryTimeout.TotalSeconds:0} s";
                    }

                    Console.WriteLine($"  event {n + 1}/{options.FanOutEvents}: {fired.Received.Count:N0}/{connected:N0} clients, last after " +
                                      $"{(fired.Received.Count == 0 ? 0 : LoadLoop.ToMilliseconds(fired.Received.Max() - fired.Answered)):0.0} ms from the 201 " +
                                      $"(API answered in {LoadLoop.ToMilliseconds(fired.Answered - fired.Sent):0.0} ms)");
                }

                await Task.Delay(Spacing, cancellationToken);
            }

            var elapsed = measuring.Elapsed;
            var stillConnected = connections.Count(c => c?.State == HubConnectionState.Connected);
            var errors = connectFailures + postErrors + warmupMissing + missing;
            answers.Sort();
            var findings = new FanOutFindings(
                tenant.Slug,
                Users,
                options.FanOutClients,
                connected,
                connectTime,
                connectFailures,
                board.Messages,
                settleTime,
                options.FanOutEvents,
                postErrors,
                (long)connected * answers.Count,
                warmupMissing,
                missing,
                beforeAnswer,
                stillConnected,
                LoadLoop.Percentile([.. answers], 0.50),
                LoadLoop.Summarise("from the 201", connected, elapsed, errors, firstError, [fromAnswer]),
                LoadLoop.Summarise("from the send", connected, elapsed, errors, firstError, [fromSend]),
                firstError);
            Console.WriteLine($"  {Summary(findings)}");
            return findings;
        }
        finally
        {
            // Every connection is stopped and disposed, as many at a time as connected, each stop bounded.
            await Parallel.ForEachAsync(connections.OfType<HubConnection>(), new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism }, async (connection, _) =>
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                try
                {
                    await connection.StopAsync(timeout.Token);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Already closed or not stopping in time: disposing below ends it either way.
                }

                await connection.DisposeAsync();
            });
        }
    }

    public static string Summary(FanOutFindings f) =>
        $"{f.Events} events to {f.Connected:N0} clients: {f.Received:N0} of {f.Expected:N0} deliveries; from the 201: p50 {f.FromAnswer.P50:0.00} ms, " +
        $"p95 {f.FromAnswer.P95:0.00} ms, p99 {f.FromAnswer.P99:0.00} ms, max {f.FromAnswer.Max:0.00} ms; from the send: p50 {f.FromSend.P50:0.00} ms, " +
        $"p99 {f.FromSend.P99:0.00} ms, max {f.FromSend.Max:0.00} ms; {f.BeforeAnswer:N0} deliveries before the 201; API p50 {f.ApiP50:0.00} ms; " +
        $"errors {f.Errors}" + (f.FirstError is null ? "" : $" (first: {f.FirstError})");

    /// <summary>One client of /hubs/agent: WebSockets straight away (no negotiate), the token in the Authorization header.</summary>
    private static HubConnection Connect(Uri baseAddress, string token, Board board, int index)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "hubs/agent"), HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.WebSocketConfiguration = socket => socket.Proxy = null;
            })
            .Build();
        connection.On<JsonElement>("WorkItemCreated", item =>
        {
            var at = Stopwatch.GetTimestamp();
            board.Seen();
            if (item.TryGetProperty("id", out var id) && id.TryGetGuid(out var itemId))
            {
                board.Record(itemId, index, at);
            }
        });
        // The other events the tenant's clients get: counted (to know when the clients are quiet), not measured.
        foreach (var other in OtherEvents)
        {
            connection.On<JsonElement>(other, _ => board.Seen());
        }

        return connection;
    }

    private sealed record Fired(long Sent, long Answered, IReadOnlyList<long> Received, string? Error);

    /// <summary>Creates one conversation, then waits until every connected client received its WorkItemCreated (or the time limit).</summary>
    private static async Task<Fired> FireAsync(
        HttpClient http, Uri path, AuthenticationHeaderValue token, Board board, string externalId, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            from = $"fanout@{TargetTenant}-fanout.bench.test",
            name = "Fan-out sender",
            subject = $"Fan-out event {externalId}",
            body = "One event for every connected console.",
            externalId,
        });
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = Json;
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = token;
        var sent = Stopwatch.GetTimestamp();
        string body;
        HttpStatusCode status;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
            status = response.StatusCode;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return new Fired(sent, Stopwatch.GetTimestamp(), [], $"POST: {e.GetType().Name}: {e.Message}");
        }

        var answered = Stopwatch.GetTimestamp();
        if (status != HttpStatusCode.Created || ItemId(body) is not { } itemId)
        {
            return new Fired(sent, answered, [], $"POST answered {(int)status}: {body[..Math.Min(body.Length, 300)]}");
        }

        var delivery = board.For(itemId);
        try
        {
            await delivery.AllIn.Task.WaitAsync(DeliveryTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Counted as missing by the caller.
        }

        return new Fired(sent, answered, delivery.Close(), null);
    }

    private static Guid? ItemId(string body)
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

    /// <summary>Every client's receipt times, per item id; an event can arrive before its POST answered.</summary>
    private sealed class Board(int clients)
    {
        private readonly ConcurrentDictionary<Guid, Delivery> deliveries = new();
        private long messages;

        /// <summary>Connected clients: an event is complete when this many received it (until known, every client).</summary>
        public int Expected { get; set; } = int.MaxValue;

        public long Messages => Interlocked.Read(ref messages);

        public void Seen() => Interlocked.Increment(ref messages);

        public Delivery For(Guid itemId) => deliveries.GetOrAdd(itemId, _ => new Delivery(clients, Expected));

        public void Record(Guid itemId, int client, long timestamp) => For(itemId).Record(client, timestamp);
    }

    /// <summary>One event: when each client received it (0: not yet); complete when the expected number did.</summary>
    private sealed class Delivery(int clients, int expected)
    {
        private readonly long[] at = new long[clients];
        private int received;
        private int closed;

        public TaskCompletionSource AllIn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Record(int client, long timestamp)
        {
            // A repeat (the relay delivers at least once) keeps the first receipt; after Close nothing counts.
            if (Volatile.Read(ref closed) == 0 && Interlocked.CompareExchange(ref at[client], timestamp, 0) == 0
                && Interlocked.Increment(ref received) >= expected)
            {
                AllIn.TrySetResult();
            }
        }

        /// <summary>Stops recording and returns the receipts so far.</summary>
        public IReadOnlyList<long> Close()
        {
            Volatile.Write(ref closed, 1);
            return [.. at.Where(t => t != 0)];
        }
    }
}
