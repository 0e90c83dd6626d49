using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;

namespace ProDesk.Testing;

/// <summary>Where the throwaway Dovecot listens (plain IMAP, no TLS): any user name logs in with <see cref="Password"/>.</summary>
public sealed record ImapEndpoint(string Host, int Port, string Password);

/// <summary>Where the SMTP sink listens (no auth, no TLS, any sender and recipient) and the directory it writes each message to.</summary>
public sealed record SmtpEndpoint(string Host, int Port, string Directory);

/// <summary>
/// The real mail servers that tests/run.sh (through tests/mail/servers.sh) starts on loopback for a
/// whole test run: Dovecot IMAP, where any user name is a mailbox made on its first login, and an
/// SMTP sink that writes every message it is sent, with its envelope, as one .eml file. Both are
/// shared by every test of the run, so a test uses mailbox names and recipients of its own (a
/// Guid in them) and filters what was sent by them.
/// </summary>
public sealed class MailServers
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    // Sink files never change once they appear (they are renamed into place), so each is parsed once.
    private static readonly ConcurrentDictionary<string, MimeMessage> Parsed = new(StringComparer.Ordinal);

    private MailServers(ImapEndpoint imap, SmtpEndpoint smtp)
    {
        Imap = imap;
        Smtp = smtp;
    }

    public ImapEndpoint Imap { get; }

    public SmtpEndpoint Smtp { get; }

    /// <summary>The servers named by PRODESK_TEST_IMAP, PRODESK_TEST_IMAP_PASSWORD, PRODESK_TEST_SMTP and PRODESK_TEST_SMTP_DIR.</summary>
    public static MailServers FromEnvironment()
    {
        var (imapHost, imapPort) = Endpoint("PRODESK_TEST_IMAP");
        var (smtpHost, smtpPort) = Endpoint("PRODESK_TEST_SMTP");
        var directory = Variable("PRODESK_TEST_SMTP_DIR");
        if (!System.IO.Directory.Exists(directory))
        {
            throw new InvalidOperationException($"PRODESK_TEST_SMTP_DIR={directory} does not exist: is the SMTP sink that tests/run.sh starts still running?");
        }

        return new MailServers(new ImapEndpoint(imapHost, imapPort, Variable("PRODESK_TEST_IMAP_PASSWORD")), new SmtpEndpoint(smtpHost, smtpPort, directory));
    }

    /// <summary>
    /// Makes the stored file of <paramref name="user"/>'s message with <paramref name="subject"/> unreadable to the IMAP
    /// server (which runs as nobody), so it answers NO to every FETCH of it, as a corrupt file or a provider's
    /// "could not be FETCHed" does; <paramref name="readable"/> puts it right again.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static void SetReadable(string user, string subject, bool readable)
    {
        var homes = Environment.GetEnvironmentVariable("PRODESK_TEST_IMAP_HOMES") ?? throw new InvalidOperationException("PRODESK_TEST_IMAP_HOMES is not set: run the tests through tests/run.sh.");
        var file = System.IO.Directory.EnumerateFiles(Path.Combine(homes, user, "Maildir"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}cur{Path.DirectorySeparatorChar}", StringComparison.Ordinal) || f.Contains($"{Path.DirectorySeparatorChar}new{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Single(f => File.ReadAllText(f).Contains($"Subject: {subject}\r\n", StringComparison.Ordinal) || File.ReadAllText(f).Contains($"Subject: {subject}\n", StringComparison.Ordinal));
        File.SetUnixFileMode(file, readable ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.None);
    }

    /// <summary>An IMAP connection logged in as <paramref name="user"/> (its mailbox is made on first login); the caller disposes it.</summary>
    public async Task<ImapClient> ConnectImapAsync(string user, CancellationToken cancellationToken = default)
    {
        var client = new ImapClient();
        try
        {
            await client.ConnectAsync(Imap.Host, Imap.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(user, Imap.Password, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts <paramref name="message"/> into the INBOX of <paramref name="user"/>, unread as a delivery would, or already
    /// read (<paramref name="seen"/>) as when a person opened it in their own mail client.
    /// </summary>
    public async Task AppendAsync(string user, MimeMessage message, bool seen = false, CancellationToken cancellationToken = default)
    {
        using var client = await ConnectImapAsync(user, cancellationToken);
        await client.Inbox.AppendAsync(message, seen ? MessageFlags.Seen : MessageFlags.None, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>How many messages in the INBOX of <paramref name="user"/> are not marked \Seen.</summary>
    public async Task<int> UnseenCountAsync(string user, CancellationToken cancellationToken = default)
    {
        using var client = await ConnectImapAsync(user, cancellationToken);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
        var unseen = await client.Inbox.SearchAsync(SearchQuery.NotSeen, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        return unseen.Count;
    }

    /// <summary>
    /// Every message the sink has been sent so far in this run (by any test), oldest first, those
    /// matching <paramref name="filter"/> if one is given. Each starts with its envelope as headers:
    /// see <see cref="SentMessageExtensions.EnvelopeFrom"/> and <see cref="SentMessageExtensions.EnvelopeTo"/>.
    /// </summary>
    public async Task<IReadOnlyList<MimeMessage>> SentAsync(Func<MimeMessage, bool>? filter = null, CancellationToken cancellationToken = default)
    {
        var messages = new List<MimeMessage>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Smtp.Directory, "*.eml").Order(StringComparer.Ordinal))
        {
            if (!Parsed.TryGetValue(path, out var message))
            {
                message = await MimeMessage.LoadAsync(path, cancellationToken);
                Parsed.TryAdd(path, message);
            }

            if (filter is null || filter(message))
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    /// <summary>
    /// The first message sent to the sink that matches <paramref name="predicate"/>, looking again every
    /// 50 ms (the app sends from its own threads) until <paramref name="timeout"/> has passed; then a
    /// <see cref="TimeoutException"/> listing what was sent.
    /// </summary>
    public async Task<MimeMessage> WaitForSentAsync(Func<MimeMessage, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var sent = await SentAsync(cancellationToken: cancellationToken);
            if (sent.FirstOrDefault(predicate) is { } match)
            {
                return match;
            }

            if (stopwatch.Elapsed >= timeout)
            {
                var seen = sent.Count == 0
                    ? "nothing at all"
                    : string.Join("; ", sent.TakeLast(20).Select(m => $"to {string.Join(",", m.EnvelopeTo())} \"{m.Subject}\""));
                throw new TimeoutException($"No message matching the test's predicate reached the SMTP sink ({Smtp.Directory}) within {timeout.TotalSeconds:0.#} s; it had {sent.Count} message(s), the last: {seen}");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private static string Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: run the tests with tests/run.sh, which starts a throwaway Dovecot IMAP and an SMTP sink on loopback " +
                "and sets PRODESK_TEST_IMAP, PRODESK_TEST_IMAP_PASSWORD, PRODESK_TEST_SMTP and PRODESK_TEST_SMTP_DIR " +
                "(by hand: source tests/mail/servers.sh && mail_servers_start).");

    private static (string Host, int Port) Endpoint(string name)
    {
        var value = Variable(name);
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (value[..colon], port)
            : throw new InvalidOperationException($"{name}={value} is not HOST:PORT.");
    }
}

/// <summary>The envelope the SMTP sink prepends to each message it writes (X-Envelope-From, one X-Envelope-To per recipient, X-Envelope-Peer).</summary>
public static class SentMessageExtensions
{
    /// <summary>The MAIL FROM address ("" for a null sender).</summary>
    public static string EnvelopeFrom(this MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Unbracket(message.Headers["X-Envelope-From"] ?? "");
    }

    /// <summary>The RCPT TO addresses, in the order given.</summary>
    public static IReadOnlyList<string> EnvelopeTo(this MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Headers.Where(h => h.Field.Equals("X-Envelope-To", StringComparison.OrdinalIgnoreCase)).Select(h => Unbracket(h.Value)).ToList();
    }

    /// <summary>The client's end of the SMTP session the message came over: the same for mails sent on one connection.</summary>
    public static string EnvelopePeer(this MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Headers["X-Envelope-Peer"] ?? "";
    }

    private static string Unbracket(string value) => value.Trim().TrimStart('<').TrimEnd('>');
}

/// <summary>
/// An SMTP sink of a test's own (the same aiosmtpd and smtp_sink.py as the shared one), for a test that
/// must stop the relay under the app: <see cref="DisposeAsync"/> kills it, and a new one may listen on the
/// same port.
/// </summary>
public sealed class OwnSmtpSink : IAsyncDisposable
{
    private readonly Process _process;

    private OwnSmtpSink(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>Starts a sink on <paramref name="port"/> (a free one when 0) writing to a new directory, and waits for its greeting.</summary>
    public static async Task<OwnSmtpSink> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        if (port == 0)
        {
            port = AppProcess.FreeLoopbackPort();
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("prodesk-own-sink-").FullName;
        var start = new ProcessStartInfo("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-u", "-l", $"127.0.0.1:{port}", "-c", "smtp_sink.Sink", directory])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PYTHONPATH"] = Path.Combine(Repository.Root, "tests", "mail");
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var log = new System.Text.StringBuilder();
        // Read (and keep) what it prints, so a full pipe never stalls it.
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sink = new OwnSmtpSink(process, port, directory);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
                var greeting = new byte[3];
                if (await client.GetStream().ReadAtLeastAsync(greeting, 3, throwOnEndOfStream: false, cancellationToken) == 3 && greeting.AsSpan().SequenceEqual("220"u8))
                {
                    return sink;
                }
            }
            catch (System.Net.Sockets.SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(15) && !process.HasExited)
            {
            }

            if (deadline.Elapsed >= TimeSpan.FromSeconds(15) || process.HasExited)
            {
                await sink.DisposeAsync();
                string printed;
                lock (log)
                {
                    printed = log.ToString();
                }

                throw new InvalidOperationException($"The SMTP sink on port {port} did not greet within 15 s: {printed}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The messages it has written, oldest first.</summary>
    public async Task<IReadOnlyList<MimeMessage>> SentAsync(CancellationToken cancellationToken = default)
    {
        var messages = new List<MimeMessage>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.eml").Order(StringComparer.Ordinal))
        {
            messages.Add(await MimeMessage.LoadAsync(path, cancellationToken));
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
