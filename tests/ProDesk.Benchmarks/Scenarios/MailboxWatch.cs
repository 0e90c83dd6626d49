using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;
using Npgsql;
using NpgsqlTypes;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>What scenario H measured, or why it did not run (<see cref="Skipped"/>).</summary>
internal sealed record MailboxFindings(
    string? Skipped,
    string Server,
    int Mailboxes,
    TimeSpan Spread,
    TimeSpan UntilPolled,
    TimeSpan Settle,
    int Appended,
    int Ingested,
    int WithinTarget,
    Lateness Seen,
    Lateness Created,
    Lateness Append,
    int NotPolled,
    int PollErrors,
    int AppendErrors,
    string? Failure,
    string? FirstError,
    long ItemsAtStart)
{
    public static readonly TimeSpan Target = TimeSpan.FromSeconds(10);

    /// <summary>No IMAP server here: H did not run, which is not a failure.</summary>
    public static MailboxFindings NotRun(string reason) => Broken(reason, null, "", 0);

    /// <summary>H broke before it measured anything (a mailbox the API refused, a login Dovecot refused): a failure.</summary>
    public static MailboxFindings Broken(string? skipped, string? failure, string server, int mailboxes) =>
        new(skipped, server, mailboxes, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 0, Lateness.Of("", []), Lateness.Of("", []), Lateness.Of("", []),
            0, 0, 0, failure, failure, 0);

    /// <summary>Mailboxes never polled or polled with an error, appends that failed, messages never a work item, or H broken.</summary>
    public int Errors => NotPolled + PollErrors + AppendErrors + (Appended - Ingested) + (Failure is null ? 0 : 1);

    public bool Passed => Skipped is not null || Errors == 0;

    public string Summary => Skipped is { } reason
        ? $"H not measured: {reason}"
        : Failure is { } failure
        ? $"H failed: {failure}"
        : $"H mailboxes: {WithinTarget}/{Mailboxes} messages a work item within {Target.TotalSeconds:0} s of their APPEND ({(Spread > TimeSpan.Zero ? $"appended over {Spread.TotalSeconds:0.#} s" : "all appended at once")}), " +
          $"seen p50 {Seen.P50:0} ms, p95 {Seen.P95:0} ms, max {Seen.Max:0} ms; {Errors} errors";
}

/// <summary>
/// Scenario H, many mailboxes polled in parallel (issue 6: "100 mailboxes, every message a work item within 10 s"):
/// N mailboxes on a real Dovecot (<see cref="BenchMailServers"/>), set up through the app's API as a provider admin
/// (round-robin over the tenants, each its own IMAP user), watched by the app's IDLE watcher as shipped. Once every
/// mailbox shows its first poll (and the watchers have had a moment to enter IDLE), one message is appended to each
/// over the spread, each on a connection the driver opened and logged into beforehand; the database is polled as the
/// superuser every 50 ms for the work items by subject. A message's figure is from the start of its APPEND to the start
/// of the first database poll that saw its item (an upper bound by one poll).
/// </summary>
internal static class MailboxWatch
{
    public const string Title = "H. Mailboxes polled in parallel";

    public const string AdminEmail = "admin@prodesk.test";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The app's watcher notices new mailboxes every Email:WatchRefreshSeconds (15 s) and polls each once; the minute's job polls them too.</summary>
    private static readonly TimeSpan PolledLimit = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    public static async Task<MailboxFindings> RunAsync(
        Uri baseAddress, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchMailServers servers, BenchOptions options, CancellationToken cancellationToken)
    {
        if (servers.Imap is not { } imap)
        {
            return MailboxFindings.NotRun(servers.Description);
        }

        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var boxes = Enumerable.Range(0, options.Mailboxes)
            .Select(i => new Box(i, tenants[i % tenants.Count], $"bench-{i:D3}", $"bench-{run}-{i:D3}", $"Bench mailbox {run} {i:D3}"))
            .ToArray();
        try
        {
            return await MeasureAsync(baseAddress, database, tenants, imap, servers.Description, boxes, run, options, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is InvalidOperationException or HttpRequestException or TimeoutException
                                      or OperationCanceledException or JsonException or IOException or System.Net.Sockets.SocketException
                                      or ImapCommandException or ImapProtocolException or AuthenticationException or ServiceNotConnectedException)
        {
            return MailboxFindings.Broken(null, $"{e.GetType().Name}: {e.Message}", servers.Description, boxes.Length);
        }
    }

    private static async Task<MailboxFindings> MeasureAsync(
        Uri baseAddress, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, ImapEndpoint imap, string server, Box[] boxes, string run,
        BenchOptions options, CancellationToken cancellationToken)
    {
        var token = await AppCli.CreateTokenAsync(database, AdminEmail, cancellationToken);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var errors = new Errors();
        try
        {
            // The driver's own connections, logged in before anything is timed (the first login also makes the mailbox).
            await Parallel.ForEachAsync(boxes, new ParallelOptions { MaxDegreeOfParallelism = 10, CancellationToken = cancellationToken }, async (box, ct) =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(ConnectTimeout);
                var client = new ImapClient { Timeout = (int)ConnectTimeout.TotalMilliseconds };
                box.Client = client;
                await client.ConnectAsync(imap.Host, imap.Port, SecureSocketOptions.None, timeout.Token);
                await client.AuthenticateAsync(box.User, imap.Password, timeout.Token);
            });

            var setup = Stopwatch.StartNew();
            foreach (var box in boxes)
            {
                using var response = await http.PutAsJsonAsync(
                    new Uri($"api/v1/tenants/{box.Tenant.Slug}/channels/email/mailboxes/{box.Key}", UriKind.Relative),
                    new { host = imap.Host, port = imap.Port, useTls = false, userName = box.User, password = imap.Password },
                    cancellationToken);
                if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
                {
                    throw new InvalidOperationException(
                        $"PUT mailbox {box.Key} of {box.Tenant.Slug} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }

            var (notPolled, pollErrors) = await WaitUntilPolledAsync(http, boxes, errors, cancellationToken);
            var untilPolled = setup.Elapsed;
            var settle = TimeSpan.FromSeconds(options.Smoke ? 1 : 3);
            Console.WriteLine($"  {boxes.Length} mailboxes set up and polled once in {untilPolled.TotalSeconds:0.0} s ({notPolled} not polled, {pollErrors} with an error); " +
                              $"{settle.TotalSeconds:0} s for the watchers to enter IDLE");
            // The watcher polls, then opens its IDLE connection: mail appended in between waits for the minute's poll (see README).
            await Task.Delay(settle, cancellationToken);

            var messages = boxes.Select(Message).ToArray();
            // Each message's ingestion costs more the more work items its tenant holds (as in G): say how many there were.
            var itemsAtStart = await database.CountAsync("""SELECT count(*) FROM "WorkItems" """, cancellationToken);
            var since = await database.CountAsync("SELECT (extract(epoch FROM now()) * 1000000)::bigint", cancellationToken);
            var watching = WatchAsync(database, tenants, boxes, run, DateTime.UnixEpoch.AddTicks(since * 10), options, cancellationToken);

            var appends = new List<Task>();
            var spreadClock = Stopwatch.StartNew();
            for (var i = 0; i < boxes.Length; i++)
            {
                var due = boxes.Length == 1 ? TimeSpan.Zero : options.MailboxSpread * i / (boxes.Length - 1);
                if (due > spreadClock.Elapsed)
                {
                    await Task.Delay(due - spreadClock.Elapsed, cancellationToken);
                }

                appends.Add(AppendAsync(boxes[i], messages[i], errors, cancellationToken));
            }

            await Task.WhenAll(appends);
            var seen = await watching;

            var appended = boxes.Where(b => b.AppendedAt is not null).ToArray();
            var latencies = appended.Where(b => seen.ContainsKey(b.Subject)).Select(b => Stopwatch.GetElapsedTime(b.AppendStarted, seen[b.Subject].SeenAt).TotalMilliseconds).ToArray();
            var findings = new MailboxFindings(
                null,
                server,
                boxes.Length,
                options.MailboxSpread,
                untilPolled,
                settle,
                appended.Length,
                appended.Count(b => seen.ContainsKey(b.Subject)),
                latencies.Count(ms => ms <= MailboxFindings.Target.TotalMilliseconds),
                Lateness.Of("work item seen in the database", latencies),
                Lateness.Of("work item created (its CreatedAt, the app's clock)",
                    appended.Where(b => seen.ContainsKey(b.Subject)).Select(b => (seen[b.Subject].CreatedAt - b.AppendedAt!.Value).TotalMilliseconds)),
                Lateness.Of("APPEND answered", appended.Select(b => b.AppendTook.TotalMilliseconds)),
                notPolled,
                pollErrors,
                boxes.Length - appended.Length,
                null,
                errors.First,
                itemsAtStart);
            Console.WriteLine($"  {findings.Summary}; {itemsAtStart:N0} work items in the database when the appends began");
            foreach (var figure in new[] { findings.Seen, findings.Created, findings.Append })
            {
                Console.WriteLine($"    {figure.Name}: {figure.Summary}");
            }

            return findings;
        }
        finally
        {
            // The app stops watching them (the minute's poll too), so later scenarios do not pay for them.
            string? deleteFailure = null;
            foreach (var box in boxes)
            {
                try
                {
                    using var deleted = await http.DeleteAsync(new Uri($"api/v1/tenants/{box.Tenant.Slug}/channels/email/mailboxes/{box.Key}", UriKind.Relative), CancellationToken.None);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    deleteFailure ??= $"DELETE mailbox {box.Key}: {e.Message}";
                }

                box.Client?.Dispose();
            }

            if (deleteFailure is not null)
            {
                await Console.Error.WriteLineAsync($"warning: H's mailboxes not all removed ({deleteFailure})");
            }
        }
    }

    /// <summary>Until every mailbox shows lastPolledAt (bounded); returns those never polled and those whose poll recorded an error.</summary>
    private static async Task<(int NotPolled, int PollErrors)> WaitUntilPolledAsync(HttpClient http, Box[] boxes, Errors errors, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var byTenant = boxes.GroupBy(b => b.Tenant.Slug).ToArray();
        while (true)
        {
            var polled = new Dictionary<string, JsonElement>();
            foreach (var tenant in byTenant)
            {
                using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/tenants/{tenant.Key}/channels/email/mailboxes", UriKind.Relative), cancellationToken));
                foreach (var mailbox in list.RootElement.EnumerateArray())
                {
                    polled[$"{tenant.Key}/{mailbox.GetProperty("key").GetString()}"] = mailbox.Clone();
                }
            }

            var states = boxes.Select(b => polled.TryGetValue($"{b.Tenant.Slug}/{b.Key}", out var m) ? m : default).ToArray();
            var notPolled = states.Count(m => m.ValueKind != JsonValueKind.Object || m.GetProperty("lastPolledAt").ValueKind == JsonValueKind.Null);
            if (notPolled == 0 || clock.Elapsed >= PolledLimit)
            {
                var failed = states.Where(m => m.ValueKind == JsonValueKind.Object && m.GetProperty("lastError").ValueKind == JsonValueKind.String).ToArray();
                foreach (var mailbox in failed.Take(1))
                {
                    errors.Add($"mailbox {mailbox.GetProperty("key").GetString()}: {mailbox.GetProperty("lastError").GetString()}");
                }

                if (notPolled > 0)
                {
                    errors.Add($"{notPolled} mailboxes not polled within {PolledLimit.TotalSeconds:0} s");
                }

                return (notPolled, failed.Length);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    /// <summary>A small plain mail from a customer to the mailbox, with its own subject (what the watch looks for) and Message-ID.</summary>
    private static MimeMessage Message(Box box)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress($"Customer {box.Index}", $"customer{box.Index}@{box.Tenant.Slug}-imap.bench.test"));
        message.To.Add(new MailboxAddress(box.Tenant.Name, $"{box.User}@bench.test"));
        message.Subject = box.Subject;
        message.MessageId = $"{box.User}@bench.test";
        message.Body = new TextPart("plain") { Text = ApiIngestion.Text[..1_000] };
        return message;
    }

    private static async Task AppendAsync(Box box, MimeMessage message, Errors errors, CancellationToken cancellationToken)
    {
        try
        {
            var inbox = box.Client!.Inbox;
            box.AppendStarted = Stopwatch.GetTimestamp();
            var at = DateTime.UtcNow;
            await inbox.AppendAsync(message, MessageFlags.None, cancellationToken);
            box.AppendTook = Stopwatch.GetElapsedTime(box.AppendStarted);
            box.AppendedAt = at;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && e is ImapCommandException or ImapProtocolException or IOException or ServiceNotConnectedException or OperationCanceledException)
        {
            errors.Add($"APPEND to {box.User}: {e.Message}");
        }
    }

    /// <summary>
    /// Polls the database (superuser, every 50 ms) for the messages' work items, by subject among the email items created
    /// since the appends began (the ("TenantId", "CreatedAt") index keeps it cheap on a large table), until every one is
    /// seen or the limit after the spread: 75 s (the minute's poll is the app's fallback), smoke 30 s.
    /// </summary>
    private static async Task<Dictionary<string, (long SeenAt, DateTime CreatedAt)>> WatchAsync(
        BenchDatabase database, IReadOnlyList<BenchTenant> tenants, Box[] boxes, string run, DateTime since, BenchOptions options, CancellationToken cancellationToken)
    {
        var limit = options.MailboxSpread + TimeSpan.FromSeconds(options.Smoke ? 30 : 75);
        var seen = new Dictionary<string, (long, DateTime)>();
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var query = new NpgsqlCommand("""
            SELECT "Subject", "CreatedAt" FROM "WorkItems"
            WHERE "TenantId" = ANY (@tenants) AND "CreatedAt" >= @since AND "Channel" = 'email' AND "Subject" LIKE @subject
            """, connection);
        query.Parameters.AddWithValue("tenants", tenants.Select(t => t.Id).ToArray());
        query.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = since.AddSeconds(-1) });
        query.Parameters.AddWithValue("subject", $"Bench mailbox {run} %");
        await query.PrepareAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        while (seen.Count < boxes.Length && clock.Elapsed < limit)
        {
            var started = Stopwatch.GetTimestamp();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    seen.TryAdd(reader.GetString(0), (started, reader.GetDateTime(1)));
                }
            }

            await Task.Delay(PollInterval, cancellationToken);
        }

        return seen;
    }

    private sealed class Box(int index, BenchTenant tenant, string key, string user, string subject)
    {
        public int Index => index;

        public BenchTenant Tenant => tenant;

        public string Key => key;

        public string User => user;

        public string Subject => subject;

        public ImapClient? Client { get; set; }

        public long AppendStarted { get; set; }

        public DateTime? AppendedAt { get; set; }

        public TimeSpan AppendTook { get; set; }
    }

    private sealed class Errors
    {
        private readonly Lock gate = new();

        public string? First { get; private set; }

        public void Add(string error)
        {
            lock (gate)
            {
                First ??= error;
            }
        }
    }
}
