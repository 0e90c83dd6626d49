using System.Globalization;
using System.Text;
using Npgsql;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>pgbench's figures for G's bare insert loop, or why it did not run (<see cref="Skipped"/>; <see cref="Failure"/> when it broke).</summary>
internal sealed record BareInboundFindings(
    string? Skipped,
    string? Failure,
    int Clients,
    int Threads,
    TimeSpan Duration,
    long Transactions,
    double Tps,
    double LatencyAverage,
    double P50,
    double P95,
    double P99,
    double Max,
    long Items,
    long Contacts,
    long Attachments,
    double MeanBodyChars,
    double MeanHtmlChars,
    long HtmlBodies,
    string Command,
    string Script,
    IReadOnlyList<string> PerTransaction)
{
    public static BareInboundFindings NotRun(string reason, string? failure = null) =>
        new(reason, failure, 0, 0, TimeSpan.Zero, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", "", []);

    public string Summary => Skipped is { } reason
        ? $"bare insert loop not measured: {reason}"
        : $"bare insert loop (pgbench -c {Clients} -j {Threads} -T {Duration.TotalSeconds:0}): {Transactions:N0} transactions, {Tps:N0} tps, " +
          $"latency avg {LatencyAverage:0.00} ms, p50 {P50:0.00} ms, p95 {P95:0.00} ms, p99 {P99:0.00} ms, max {Max:0.00} ms; " +
          $"{Items:N0} items, mean body {MeanBodyChars:N0} chars";
}

/// <summary>
/// G's yardstick (issue 6: "the ratio to a bare pgbench insert of the same rows"): after the app has stopped, pgbench
/// inserts, per transaction, the rows one inbound mail made the app write, table by table as G counted them (ledger row,
/// sometimes a contact, the item, its message with a body of the same sizes and text, SLA clock entries and timers as the
/// tenant's policy armed them, the trail row, the outbox event, the acknowledgment, sometimes an attachment row), into
/// the same tables of the same database, with as many clients as G had and for as long, as the superuser. The
/// statements are the app's own INSERTs (same columns, same order) sent in one pipeline, as EF Core sends its batch.
/// What it leaves out is everything else the app does per mail: HTTP, parsing and sanitising the MIME, the raw mail
/// and attachment files (the raw one flushed to disk), the lookups before the insert (dedupe, contact, queue, policy,
/// channel settings) and their round trips.
/// </summary>
internal static class BareInboundLoop
{
    private const string TextPlaceholder = "'<the body text>'";

    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(30);

    public static async Task<BareInboundFindings> RunAsync(BenchDatabase database, InboundFindings g, BenchOptions options, CancellationToken cancellationToken)
    {
        if (g.Created == 0 || g.Tenants.Count == 0)
        {
            return BareInboundFindings.NotRun("the app created no mail to compare with");
        }

        if (Pgbench.Find() is not { } pgbench)
        {
            return BareInboundFindings.NotRun("pgbench not found (PRODESK_PGBENCH, /usr/lib/postgresql/*/bin/pgbench or PATH)");
        }

        var (clients, maxConnections, inUse) = await Pgbench.ClientsAsync(database, options.InboundWorkers, cancellationToken);
        if (clients < 1)
        {
            return BareInboundFindings.NotRun($"no free connections (max_connections {maxConnections}, {inUse} in use)");
        }

        // What G measured, as shares per thousand transactions.
        var contacts = PerMille(g.RowsOf("Contacts"), g.Created);
        var attachments = PerMille(g.RowsOf("WorkItemAttachments"), g.Created);
        var html = PerMille(g.HtmlBodies, g.Created);
        var text = ApiIngestion.Text;
        if (text.IndexOfAny(['\'', ':', ';', '\\']) >= 0)
        {
            // pgbench would read a quote, a ':name' or a backslash inside the literal as its own syntax.
            throw new InvalidOperationException("the body text must not contain quotes, colons, semicolons or backslashes");
        }

        var threads = Math.Clamp(Environment.ProcessorCount, 1, clients);
        var seconds = Math.Max(1, (int)Math.Round(options.InboundDuration.TotalSeconds));
        var directory = Directory.CreateTempSubdirectory("prodesk-bench-pgbench.");
        try
        {
            var arguments = new List<string>
            {
                "-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
                "-T", seconds.ToString(CultureInfo.InvariantCulture), "-l", "--log-prefix", Path.Combine(directory.FullName, "inbound"),
            };
            var files = new List<string>();
            foreach (var shape in g.Tenants)
            {
                var file = Path.Combine(directory.FullName, $"inbound-{shape.Slug}.sql");
                await File.WriteAllTextAsync(file, Script(shape, contacts, attachments, html, text), cancellationToken);
                // Weighted by the tenant's share of G's mails (round-robin: equal).
                arguments.Add("-f");
                arguments.Add($"{file}@{shape.Items}");
                files.Add($"inbound-{shape.Slug}.sql@{shape.Items}");
            }

            string output;
            try
            {
                output = await Pgbench.RunAsync(pgbench, arguments, database, TimeSpan.FromSeconds(seconds) + HangGrace, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                return BareInboundFindings.NotRun("pgbench failed", e.Message.Length > 2_000 ? e.Message[..2_000] : e.Message);
            }

            var latencies = Pgbench.ReadLatencies(directory, "inbound");
            await using var connection = new NpgsqlConnection(database.AdminConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var count = new NpgsqlCommand("""
                SELECT count(*), coalesce(avg(length("Body")), 0)::float8, coalesce(avg(length("HtmlBody")), 0)::float8, count("HtmlBody"),
                       (SELECT count(*) FROM "Contacts" WHERE "Email" LIKE 'bare.%-bare.bench.test'),
                       (SELECT count(*) FROM "WorkItemAttachments" WHERE "FileName" LIKE 'bare-statement-%')
                FROM "WorkItemMessages" WHERE "ExternalId" LIKE 'email:route:bare-%'
                """, connection) { CommandTimeout = 0 };
            await using var reader = await count.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var first = g.Tenants[0];
            return new BareInboundFindings(
                null,
                null,
                clients,
                threads,
                TimeSpan.FromSeconds(seconds),
                Pgbench.Processed(output) ?? latencies.LongLength,
                Pgbench.Tps(output),
                Pgbench.LatencyAverage(output) ?? 0,
                Pgbench.Percentile(latencies, 0.50),
                Pgbench.Percentile(latencies, 0.95),
                Pgbench.Percentile(latencies, 0.99),
                latencies.Length == 0 ? 0 : latencies[^1],
                reader.GetInt64(0),
                reader.GetInt64(4),
                reader.GetInt64(5),
                reader.GetDouble(1),
                reader.GetDouble(2),
                reader.GetInt64(3),
                $"pgbench -n -M prepared -c {clients} -j {threads} -T {seconds} -l {string.Join(' ', files.Select(f => $"-f {f}"))}",
                Script(first, contacts, attachments, html, text).Replace($"'{text}'", TextPlaceholder, StringComparison.Ordinal),
                [
                    "1 InboundMails",
                    $"Contacts: one in {contacts / 10.0:0.#} % of transactions",
                    "1 WorkItems",
                    "1 WorkItemMessages (body 200 B to 20 KB log-uniform, the same text as the app's; " +
                    $"an HTML body in {html / 10.0:0.#} %)",
                    $"WorkItemAttachments: one in {attachments / 10.0:0.#} % of transactions (a row; no file)",
                    "SlaClockEntries, SlaTimers, WorkItemChanges and OutboundMessages (the acknowledgment): as many per item as the app wrote for the tenant (" +
                    string.Join("; ", g.Tenants.Select(t => $"{t.Slug} {t.ClockEntries}, {t.Timers}, {t.Changes}, {t.Acknowledgments}")) + ")",
                    "1 OutboxEvents",
                ]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static int PerMille(long part, long whole) => whole == 0 ? 0 : (int)Math.Round(1000.0 * part / whole, MidpointRounding.AwayFromZero);

    /// <summary>
    /// One tenant's transaction: the app's INSERTs for one new mail, in the order EF Core sends them, in one pipeline.
    /// Ids are md5 of a random 63-bit key and a letter per row, so each transaction's rows are new and point at each other.
    /// </summary>
    internal static string Script(InboundTenantShape shape, int contactsPerMille, int attachmentsPerMille, int htmlPerMille, string text)
    {
        var tenant = $"'{shape.TenantId}'";
        var item = "md5(:k::text || 'i')::uuid";
        var sender = $"'bare.' || :k::text || '@{shape.Slug}-bare.bench.test'";
        var subject = "'Bare mail ' || :k::text";
        var messageId = "'bare-' || :k::text || '@bench.test'";
        var s = new StringBuilder();
        void Line(string line) => s.Append(line).Append('\n');

        Line("\\set k random(1, 9000000000000000000)");
        Line($"\\set size int({ApiIngestion.MinBody} * pow({ApiIngestion.MaxBody / ApiIngestion.MinBody}, random(0, 999999) / 1000000.0))");
        Line("\\set contact random(1, 1000)");
        Line("\\set attach random(1, 1000)");
        Line("\\set html random(1, 1000)");
        Line("\\startpipeline");
        Line("BEGIN;");
        Line($"\\if :contact <= {contactsPerMille}");
        Line($"""INSERT INTO "Contacts" ("Id", "Company", "CreatedAt", "Email", "Name", "Phone", "TenantId") VALUES (md5(:k::text || 'c')::uuid, NULL, now(), {sender}, 'Bare sender', NULL, {tenant});""");
        Line("\\endif");
        Line($"""INSERT INTO "InboundMails" ("Id", "DedupeKey", "FromAddress", "RawSha256", "Reason", "ReceivedAt", "Size", "Source", "State", "Subject", "TenantId", "WorkItemId") VALUES (md5(:k::text || 'l')::uuid, {messageId}, {sender}, md5(:k::text || 'r') || md5(:k::text || 's'), NULL, now(), :size::bigint + 1000, 'route', 'Ingested', {subject}, {tenant}, {item});""");
        Line($$"""INSERT INTO "OutboxEvents" ("CreatedAt", "PayloadJson", "PublishedAt", "TenantId", "Type") VALUES (now(), '{"Id":"' || {{item}}::text || '","Subject":"Bare mail ' || :k::text || '","Channel":"email"}', NULL, {{tenant}}, 'WorkItemCreated');""");
        var policy = shape.PolicyId is { } id ? $"'{id}'" : "NULL";
        string WorkItem(string contact) =>
            $$"""INSERT INTO "WorkItems" ("Id", "AssigneeId", "BreachedAt", "Channel", "ContactId", "CreatedAt", "CustomFieldsJson", "DueAt", "ExternalId", "Kind", "Priority", "QueueId", "SlaPolicyId", "Status", "Subject", "Tags", "TenantId", "UpdatedAt", "Version") VALUES ({{item}}, NULL, NULL, 'email', {{contact}}, now(), '{}', now() + interval '1 day', NULL, 'Conversation', 1, '{{shape.QueueId}}', {{policy}}, 'Open', {{subject}}, '{}', {{tenant}}, now(), 1);""";
        Line($"\\if :contact <= {contactsPerMille}");
        Line(WorkItem("md5(:k::text || 'c')::uuid"));
        Line("\\else");
        Line(WorkItem($"'{shape.ContactId}'"));
        Line("\\endif");
        for (var i = 0; i < shape.Acknowledgments; i++)
        {
            Line($"""INSERT INTO "OutboundMessages" ("Id", "Attempts", "Automatic", "Body", "Channel", "CreatedAt", "InReplyTo", "InternetMessageId", "LastError", "NextAttemptAt", "References", "SentAt", "State", "Subject", "TenantId", "To", "ToName", "WorkItemId", "WorkItemMessageId") VALUES (md5(:k::text || 'o{i}')::uuid, 0, true, E'Thank you for your message. We have received it and will answer as soon as we can.\n\nReference: ' || {item}::text || E'\n\nTo add anything, reply to this mail.', 'email', now(), {messageId}, md5(:k::text || 'n{i}') || '@prodesk.mail', NULL, now(), {messageId}, NULL, 'Pending', 'Re: ' || {subject}, {tenant}, {sender}, 'Bare sender', {item}, NULL);""");
        }

        (string Target, int Goal)[] clocks = [("FirstResponse", 240), ("Resolution", 1440)];
        for (var i = 0; i < shape.ClockEntries; i++)
        {
            var (target, goal) = clocks[i % clocks.Length];
            Line($"""INSERT INTO "SlaClockEntries" ("At", "GoalMinutes", "Kind", "Reason", "Target", "TenantId", "WorkItemId") VALUES (now(), {goal}, 'Started', 'created', '{target}', {tenant}, {item});""");
        }

        (string Target, int Percent, int Hours)[] timers = [("FirstResponse", 75, 3), ("FirstResponse", 90, 4), ("FirstResponse", 100, 4), ("Resolution", 75, 18), ("Resolution", 90, 22), ("Resolution", 100, 24)];
        for (var i = 0; i < shape.Timers; i++)
        {
            var (target, percent, hours) = timers[i % timers.Length];
            var due = target == "FirstResponse" ? 4 : 24;
            Line($"""INSERT INTO "SlaTimers" ("DueAt", "FireAt", "FiredAt", "Percent", "Target", "TenantId", "WorkItemId") VALUES (now() + interval '{due} hours', now() + interval '{hours} hours', NULL, {percent}, '{target}', {tenant}, {item});""");
        }

        Line($"\\if :attach <= {attachmentsPerMille}");
        Line($"""INSERT INTO "WorkItemAttachments" ("Id", "ContentType", "CreatedAt", "FileName", "Length", "Sha256", "TenantId", "UploadedBy", "WorkItemId", "WorkItemMessageId") VALUES (md5(:k::text || 'a')::uuid, 'application/pdf', now(), 'bare-statement-' || :k::text || '.pdf', 80000, decode(md5(:k::text || 'a') || md5(:k::text || 'b'), 'hex'), {tenant}, NULL, {item}, md5(:k::text || 'm')::uuid);""");
        Line("\\endif");
        for (var i = 0; i < shape.Changes; i++)
        {
            Line($"""INSERT INTO "WorkItemChanges" ("ActorId", "ActorName", "At", "Field", "From", "TenantId", "To", "WorkItemId") VALUES (NULL, {sender}, now(), 'created', NULL, {tenant}, 'Open', {item});""");
        }

        var body = $"substr('{text}', 1, :size::int)";
        Line($"""INSERT INTO "WorkItemMessages" ("Id", "AuthorName", "AuthorUserId", "Body", "CreatedAt", "ExternalId", "FromAddress", "HtmlBody", "InternetMessageId", "Kind", "TenantId", "WorkItemId") VALUES (md5(:k::text || 'm')::uuid, 'Bare sender', NULL, {body}, now(), 'email:' || 'route:' || {messageId}, {sender}, CASE WHEN :html::int <= {htmlPerMille} THEN '<p>' || {body} || '</p>' END, {messageId}, 'Inbound', {tenant}, {item});""");
        Line("COMMIT;");
        Line("\\endpipeline");
        return s.ToString();
    }
}
