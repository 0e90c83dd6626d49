using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MimeKit;
using Npgsql;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>Rows the app wrote for G's measured mails, in one table.</summary>
internal sealed record TableRows(string Table, long Rows);

/// <summary>
/// One tenant's share of G's measured mails: how many, the rows each wrote where that depends on the tenant's
/// queue and SLA policy, and ids of its own that the bare loop's rows point at (queue, policy, an existing contact).
/// </summary>
internal sealed record InboundTenantShape(
    string Slug, Guid TenantId, long Items, Guid QueueId, Guid? PolicyId, Guid ContactId, int ClockEntries, int Timers, int Changes, int Acknowledgments);

/// <summary>
/// CPU time per 201 over G's measured window, in milliseconds: the app process (everything it did meanwhile, the
/// acknowledgments it sent and the events it published included), the app role's PostgreSQL backends (null when the
/// server is not on this machine) and the driver itself. On a machine shared by all three, where the time goes.
/// </summary>
internal sealed record CpuPerMail(double App, double? Database, double Driver);

/// <summary>What scenario G measured, and what the database holds afterwards.</summary>
internal sealed record InboundFindings(
    LoadResult Result,
    int Templates,
    TimeSpan BuildTime,
    double MeanRawBytes,
    long WithAttachment,
    long WithHtml,
    long Ingested,
    long EmailItems,
    IReadOnlyList<TableRows> Rows,
    IReadOnlyList<InboundTenantShape> Tenants,
    double MeanBodyChars,
    double MeanHtmlChars,
    long HtmlBodies,
    long OutboxWaiting,
    long OutboundPending,
    CpuPerMail Cpu,
    long ItemsAtStart)
{
    /// <summary>C's yardstick's counterpart: pgbench inserting the same rows, measured after the app has stopped.</summary>
    public BareInboundFindings Bare { get; init; } = BareInboundFindings.NotRun("not run");

    /// <summary>The 201 answers.</summary>
    public long Created => Result.Operations - Result.Errors;

    /// <summary>Every 201 is one ledger row ingested from the route and one email work item, and nothing else was stored under the run's ids.</summary>
    public bool AllStored => Ingested == Created && EmailItems == Created;

    public bool Passed => Result.Errors == 0 && AllStored && Bare.Failure is null;

    public long RowsOf(string table) => Rows.FirstOrDefault(r => r.Table == table)?.Rows ?? 0;

    public double? RatioToBare => Bare is { Skipped: null, Tps: > 0 } bare ? Result.PerSecond / bare.Tps : null;
}

/// <summary>
/// Scenario G, the inbound MIME route on PostgreSQL (issue 6): K clients POST raw mail (message/rfc822, the
/// tenant's inbound key in X-ProDesk-Key) to <c>/channels/email/{tenant}/inbound</c>, round-robin over the tenants,
/// for D seconds after the warm-up. The mails are real MIME built with MimeKit before the clock starts: a pool of
/// templates (text 200 B to 20 KB log-uniform, the same sizes and text as D; 30 % with an HTML alternative; 10 %
/// with a 20 to 200 KB binary attachment in base64) whose From, To, Subject and Message-ID lines are written per
/// request (a few hundred bytes), so every mail is unique and the driver's own cost is not what is measured.
/// Senders repeat per client (25 per client and tenant). Anything but 201 is an error; afterwards the ledger rows
/// ingested from the route and the email work items are counted as the superuser and must equal the 201s, and the
/// rows the app wrote per mail are counted table by table, which is what the bare pgbench loop then inserts.
/// </summary>
internal static class InboundMime
{
    public const string Title = "G. The inbound MIME route";

    /// <summary>Distinct senders per client and tenant.</summary>
    private const int SendersPerWorker = 25;

    private const int MinAttachment = 20_000;
    private const int MaxAttachment = 200_000;

    private static readonly MediaTypeHeaderValue Rfc822 = new("message/rfc822");

    public static async Task<InboundFindings> RunAsync(
        AppProcess app, BenchDatabase database, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        var building = Stopwatch.StartNew();
        var templates = BuildTemplates(options.InboundTemplates);
        building.Stop();
        var targets = new List<Target>();
        foreach (var tenant in tenants)
        {
            var (key, support) = await ChannelKeysAsync(tenant.Slug, cancellationToken);
            targets.Add(new Target(tenant.Slug, new Uri($"channels/email/{tenant.Slug}/inbound", UriKind.Relative), key, support));
        }

        Console.WriteLine($"  {templates.Length:N0} mail templates built in {building.Elapsed.TotalSeconds:0.0} s " +
                          $"({templates.Count(t => t.Attachment > 0):N0} with an attachment, {templates.Count(t => t.Html):N0} with HTML, " +
                          $"{templates.Sum(t => (long)t.Bytes.Length) / 1024.0 / 1024.0:0.0} MiB)");

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = options.InboundWorkers,
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var pool = targets.ToArray();
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        if (options.IngestWarmup > TimeSpan.Zero)
        {
            var warmup = new Totals();
            await LoadLoop.RunAsync("warm-up", options.InboundWorkers, options.IngestWarmup,
                (i, _) => Task.FromResult<ILoadWorker>(new Worker(http, pool, templates, i, $"g{run}w", warmup)), cancellationToken);
        }

        await database.AnalyzeAsync(cancellationToken);

        // The app's cost per mail grows with the tenants' work items (IngestMessage's dedupe lookup reads them all): say how many there were.
        var itemsAtStart = await database.CountAsync("""SELECT count(*) FROM "WorkItems" """, cancellationToken);

        // The rows whose count alone ties them to the measured mails: read before and after.
        var contactsBefore = await CountContactsAsync(database, cancellationToken);
        var outboxBefore = await database.CountAsync("""SELECT coalesce(max("Id"), 0) FROM "OutboxEvents" """, cancellationToken);

        var totals = new Totals();
        var prefix = $"g{run}m";
        await using var admin = new NpgsqlConnection(database.AdminConnectionString);
        await admin.OpenAsync(cancellationToken);
        using var meter = await SlaTimers.CpuMeter.StartAsync(app, admin, SlaTimers.IsLocal(admin), control: false, cancellationToken);
        using var driver = Process.GetCurrentProcess();
        var driverBefore = driver.TotalProcessorTime;
        var window = Stopwatch.StartNew();
        var result = await LoadLoop.RunAsync(Title, options.InboundWorkers, options.InboundDuration,
            (i, _) => Task.FromResult<ILoadWorker>(new Worker(http, pool, templates, i, prefix, totals)), cancellationToken);
        var (appPercent, databasePercent, _) = await meter.StopAsync(window.Elapsed, cancellationToken);
        driver.Refresh();
        var driverCpu = driver.TotalProcessorTime - driverBefore;
        var perMail = Math.Max(1, result.Operations - result.Errors);
        var cpu = new CpuPerMail(
            appPercent / 100 * window.Elapsed.TotalMilliseconds / perMail,
            databasePercent / 100 * window.Elapsed.TotalMilliseconds / perMail,
            driverCpu.TotalMilliseconds / perMail);

        var pattern = $"{prefix}-%";
        var ingested = await database.CountAsync(
            """SELECT count(*) FROM "InboundMails" WHERE "Source" = 'route' AND "State" = 'Ingested' AND "DedupeKey" LIKE @pattern""",
            cancellationToken, ("pattern", pattern));
        var items = await database.CountAsync(
            """SELECT count(*) FROM "WorkItems" WHERE "Channel" = 'email' AND "Subject" LIKE @subject""",
            cancellationToken, ("subject", $"Bench mail {prefix}-%"));
        var newContacts = await CountContactsAsync(database, cancellationToken) - contactsBefore;
        var created = await database.CountAsync(
            """SELECT count(*) FROM "OutboxEvents" WHERE "Id" > @before AND "Type" = 'WorkItemCreated' AND "PayloadJson" LIKE '%"Channel":"email"%'""",
            cancellationToken, ("before", outboxBefore));
        var (rows, shapes, bodies) = await RowsAsync(database, tenants, pattern, ingested, newContacts, created, cancellationToken);
        var outboxWaiting = await database.CountAsync("""SELECT count(*) FROM "OutboxEvents" WHERE "PublishedAt" IS NULL""", cancellationToken);
        var outboundPending = await database.CountAsync("""SELECT count(*) FROM "OutboundMessages" WHERE "State" = 'Pending'""", cancellationToken);

        var findings = new InboundFindings(
            result, templates.Length, building.Elapsed, totals.Messages == 0 ? 0 : (double)totals.Bytes / totals.Messages, totals.Attachments, totals.Html,
            ingested, items, rows, shapes, bodies.MeanBody, bodies.MeanHtml, bodies.HtmlBodies, outboxWaiting, outboundPending, cpu, itemsAtStart);
        Console.WriteLine($"  {result.Summary}; mean mail {findings.MeanRawBytes / 1024:N1} KiB, {totals.Attachments:N0} with an attachment, " +
                          $"{totals.Html:N0} with HTML; {ingested:N0} ingested in the ledger, {items:N0} email items; " +
                          $"{outboxWaiting:N0} outbox events and {outboundPending:N0} acknowledgments waiting at the end");
        Console.WriteLine($"  {itemsAtStart:N0} work items in the database when the measured loop began");
        Console.WriteLine($"  CPU per mail: app {cpu.App:0.00} ms, its PostgreSQL backends {(cpu.Database is { } db ? $"{db:0.00} ms" : "not measured")}, the driver {cpu.Driver:0.00} ms");
        Console.WriteLine("  rows per mail: " + string.Join(", ", rows.Select(r => $"{r.Table} {(findings.Created == 0 ? 0 : (double)r.Rows / findings.Created):0.##}")));
        return findings;
    }

    /// <summary>The tenant's inbound key and support address, from tenants-seed/{slug}/channels.json (the demo keys the seed stores hashed).</summary>
    private static async Task<(string Key, string Support)> ChannelKeysAsync(string slug, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Repository.SeedDirectory, slug, "channels.json");
        using var channels = JsonDocument.Parse(await File.ReadAllTextAsync(file, cancellationToken));
        var key = channels.RootElement.TryGetProperty("inboundKey", out var k) && k.GetString() is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{file} has no inboundKey: G cannot post mail to {slug}");
        var support = channels.RootElement.TryGetProperty("supportAddress", out var s) && s.GetString() is { Length: > 0 } address ? address : $"support@{slug}.test";
        return (key, support);
    }

    private static Task<long> CountContactsAsync(BenchDatabase database, CancellationToken cancellationToken) =>
        database.CountAsync("""SELECT count(*) FROM "Contacts" WHERE "Email" LIKE '%-mail.bench.test'""", cancellationToken);

    /// <summary>
    /// The rows the app wrote for the measured mails, table by table (those tied to an item through its id; the clock
    /// entries and trail rows of the ingestion itself, stamped with the item's creation time, not those the SLA sweeper
    /// adds later), and per tenant what the bare loop needs to write the same.
    /// </summary>
    private static async Task<(IReadOnlyList<TableRows> Rows, IReadOnlyList<InboundTenantShape> Tenants, (double MeanBody, double MeanHtml, long HtmlBodies) Bodies)> RowsAsync(
        BenchDatabase database, IReadOnlyList<BenchTenant> tenants, string pattern, long ingested, long newContacts, long outboxCreated, CancellationToken cancellationToken)
    {
        const string Measured = """
            WITH g AS (
                SELECT w."Id", w."TenantId", w."CreatedAt", w."QueueId", w."SlaPolicyId", w."ContactId"
                FROM "InboundMails" m JOIN "WorkItems" w ON w."Id" = m."WorkItemId"
                WHERE m."Source" = 'route' AND m."State" = 'Ingested' AND m."DedupeKey" LIKE @pattern AND w."Channel" = 'email')
            """;
        (string Table, string Filter)[] linked =
        [
            ("WorkItemMessages", ""),
            ("WorkItemAttachments", ""),
            ("SlaClockEntries", """AND x."At" = g."CreatedAt" """),
            ("SlaTimers", ""),
            ("WorkItemChanges", """AND x."At" = g."CreatedAt" """),
            ("OutboundMessages", ""),
        ];

        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        var perTenant = new Dictionary<(Guid Tenant, string Table), long>();
        foreach (var (table, filter) in linked)
        {
            await using var command = new NpgsqlCommand(
                $"""{Measured} SELECT g."TenantId", count(*) FROM "{table}" x JOIN g ON x."WorkItemId" = g."Id" {filter} GROUP BY g."TenantId" """, connection)
            { CommandTimeout = 0 };
            command.Parameters.AddWithValue("pattern", pattern);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                perTenant[(reader.GetGuid(0), table)] = reader.GetInt64(1);
            }
        }

        var shapes = new List<InboundTenantShape>();
        await using (var command = new NpgsqlCommand(
            $"""
             {Measured}
             SELECT g."TenantId", count(*), (array_agg(g."QueueId"))[1], (array_agg(g."SlaPolicyId"))[1], (array_agg(g."ContactId"))[1]
             FROM g GROUP BY g."TenantId"
             """, connection) { CommandTimeout = 0 })
        {
            command.Parameters.AddWithValue("pattern", pattern);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var tenant = reader.GetGuid(0);
                var count = reader.GetInt64(1);
                int PerItem(string table) => (int)Math.Round((double)perTenant.GetValueOrDefault((tenant, table)) / count, MidpointRounding.AwayFromZero);
                shapes.Add(new InboundTenantShape(
                    tenants.FirstOrDefault(t => t.Id == tenant)?.Slug ?? tenant.ToString(), tenant, count, reader.GetGuid(2),
                    reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetGuid(4),
                    PerItem("SlaClockEntries"), PerItem("SlaTimers"), PerItem("WorkItemChanges"), PerItem("OutboundMessages")));
            }
        }

        (double, double, long) bodies;
        await using (var command = new NpgsqlCommand(
            $"""
             {Measured}
             SELECT coalesce(avg(length(x."Body")), 0)::float8, coalesce(avg(length(x."HtmlBody")), 0)::float8, count(x."HtmlBody")
             FROM "WorkItemMessages" x JOIN g ON x."WorkItemId" = g."Id"
             """, connection) { CommandTimeout = 0 })
        {
            command.Parameters.AddWithValue("pattern", pattern);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            bodies = (reader.GetDouble(0), reader.GetDouble(1), reader.GetInt64(2));
        }

        long Total(string table) => perTenant.Where(p => p.Key.Table == table).Sum(p => p.Value);
        TableRows[] rows =
        [
            new("InboundMails", ingested),
            new("Contacts", newContacts),
            new("WorkItems", shapes.Sum(s => s.Items)),
            new("WorkItemMessages", Total("WorkItemMessages")),
            new("WorkItemAttachments", Total("WorkItemAttachments")),
            new("SlaClockEntries", Total("SlaClockEntries")),
            new("SlaTimers", Total("SlaTimers")),
            new("WorkItemChanges", Total("WorkItemChanges")),
            new("OutboxEvents", outboxCreated),
            new("OutboundMessages", Total("OutboundMessages")),
        ];
        return (rows, shapes, bodies);
    }

    /// <summary>
    /// The pool of mails without their identity lines (From, To, Subject, Message-ID), serialised once with CRLF line
    /// ends as a mail gateway posts them. Fixed seed: every run sends the same mix.
    /// </summary>
    private static Template[] BuildTemplates(int count)
    {
        var random = new Random(20_006);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        var templates = new Template[count];
        for (var i = 0; i < count; i++)
        {
            var text = ApiIngestion.Text[..ApiIngestion.BodySize(random)];
            // 30 % carry an HTML alternative, 10 % (others) an attachment: exactly so over the pool.
            var html = i % 10 is 1 or 2 or 3;
            var attachment = i % 10 == 0 ? ApiIngestion.LogUniform(random, MinAttachment, MaxAttachment) : 0;
            MimeEntity body = new TextPart("plain") { Text = text };
            if (html)
            {
                body = new MultipartAlternative { body, new TextPart("html") { Text = Html(text) } };
            }

            if (attachment > 0)
            {
                var bytes = new byte[attachment];
                random.NextBytes(bytes);
                body = new Multipart("mixed")
                {
                    body,
                    new MimePart("application", "pdf")
                    {
                        Content = new MimeContent(new MemoryStream(bytes, writable: false)),
                        ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                        ContentTransferEncoding = ContentEncoding.Base64,
                        FileName = $"statement-{i}.pdf",
                    },
                };
            }

            using var message = new MimeMessage { Body = body, Date = new DateTimeOffset(2026, 1, 5, 9, 30, 0, TimeSpan.Zero) };
            message.Headers.Remove(HeaderId.MessageId);
            message.Prepare(EncodingConstraint.SevenBit);
            using var buffer = new MemoryStream();
            message.WriteTo(format, buffer);
            templates[i] = new Template(buffer.ToArray(), html, attachment);
        }

        return templates;
    }

    /// <summary>The text as simple HTML, a paragraph per line.</summary>
    private static string Html(string text) =>
        "<html><body>" + string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => $"<p>{p}</p>")) + "</body></html>";

    private sealed record Target(string Slug, Uri Path, string Key, string Support);

    private sealed record Template(byte[] Bytes, bool Html, int Attachment);

    private sealed class Totals
    {
        private long messages;
        private long bytes;
        private long attachments;
        private long html;

        public long Messages => Interlocked.Read(ref messages);

        public long Bytes => Interlocked.Read(ref bytes);

        public long Attachments => Interlocked.Read(ref attachments);

        public long Html => Interlocked.Read(ref html);

        public void Add(long size, Template template)
        {
            Interlocked.Increment(ref messages);
            Interlocked.Add(ref bytes, size);
            if (template.Attachment > 0)
            {
                Interlocked.Increment(ref attachments);
            }

            if (template.Html)
            {
                Interlocked.Increment(ref html);
            }
        }
    }

    /// <summary>A mail's identity lines, then a template's bytes: no copy of the template per request.</summary>
    private sealed class MailContent : HttpContent
    {
        private readonly byte[] head;
        private readonly byte[] body;

        public MailContent(byte[] head, byte[] body)
        {
            this.head = head;
            this.body = body;
            Headers.ContentType = Rfc822;
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync(body, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = head.Length + body.Length;
            return true;
        }
    }

    private sealed class Worker(HttpClient http, Target[] targets, Template[] templates, int index, string prefix, Totals totals) : ILoadWorker
    {
        private long sequence;

        public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
        {
            var n = sequence++;
            var target = targets[(int)((index + n) % targets.Length)];
            // Workers start at different places in the pool, so together they send its mix.
            var template = templates[(int)((index * 997L + n) % templates.Length)];
            var sender = n % SendersPerWorker;
            var id = $"{prefix}-{index}-{n}";
            var head = Encoding.ASCII.GetBytes(
                $"From: \"Sender {sender} of client {index}\" <sender{sender}.c{index}@{target.Slug}-mail.bench.test>\r\n" +
                $"To: {target.Support}\r\nSubject: Bench mail {id}\r\nMessage-ID: <{id}@bench.test>\r\n");
            using var content = new MailContent(head, template.Bytes);
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Path) { Content = content };
            request.Headers.TryAddWithoutValidation("X-ProDesk-Key", target.Key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                var answer = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new HttpRequestException($"{(int)response.StatusCode} for {target.Slug}: {answer[..Math.Min(answer.Length, 300)]}");
            }

            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            totals.Add(head.Length + template.Bytes.Length, template);
            return true;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
