using System.Diagnostics;
using System.Globalization;

namespace ProDesk.Benchmarks;

/// <summary>
/// The IMAP server scenario H's mailboxes live on: the one <c>PRODESK_TEST_IMAP</c> names (tests/run.sh starts it), else
/// a throwaway Dovecot on loopback started through tests/mail/servers.sh, the same configuration the tests use, and
/// stopped when this is disposed (also after a failure or Ctrl+C); else none, with the reason, and H is skipped.
/// </summary>
internal sealed class BenchMailServers : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(30);

    /// <summary>Set when this driver started the servers: their directory, which mail_servers_stop needs.</summary>
    private readonly string? mailDirectory;

    private BenchMailServers(ImapEndpoint? imap, string description, string? mailDirectory)
    {
        Imap = imap;
        Description = description;
        this.mailDirectory = mailDirectory;
    }

    /// <summary>Where Dovecot listens; null when there is none (<see cref="Description"/> says why).</summary>
    public ImapEndpoint? Imap { get; }

    /// <summary>Where the server came from, or why there is none.</summary>
    public string Description { get; }

    private static string Script => Path.Combine(Repository.Root, "tests", "mail", "servers.sh");

    public static async Task<BenchMailServers> AcquireAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("PRODESK_TEST_IMAP") is { Length: > 0 } given)
        {
            var colon = given.LastIndexOf(':');
            var password = Environment.GetEnvironmentVariable("PRODESK_TEST_IMAP_PASSWORD");
            return colon > 0 && int.TryParse(given.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && !string.IsNullOrEmpty(password)
                ? new BenchMailServers(new ImapEndpoint(given[..colon], port, password), $"Dovecot at PRODESK_TEST_IMAP={given}", null)
                : new BenchMailServers(null, $"PRODESK_TEST_IMAP={given} is not HOST:PORT, or PRODESK_TEST_IMAP_PASSWORD is not set", null);
        }

        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            return new BenchMailServers(null, "no PRODESK_TEST_IMAP, and tests/mail/servers.sh needs Linux and root to start Dovecot", null);
        }

        if (!new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }.Any(dir => File.Exists(Path.Combine(dir, "dovecot"))))
        {
            return new BenchMailServers(null, "no PRODESK_TEST_IMAP, and Dovecot is not installed (Debian: dovecot-imapd, python3-aiosmtpd; tests/run.sh installs them)", null);
        }

        // servers.sh exports its endpoints into the shell that sources it: print them (and its directory, which stopping needs).
        var (exit, output, errors) = await BashAsync(
            """source "$1"; mail_servers_start >&2; status=$?; printf 'MAIL_DIR=%s\nIMAP=%s\nPASSWORD=%s\n' "$MAIL_DIR" "${PRODESK_TEST_IMAP:-}" "${PRODESK_TEST_IMAP_PASSWORD:-}"; exit $status""",
            [Script], StartLimit, cancellationToken);
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        var directory = values.GetValueOrDefault("MAIL_DIR") is { Length: > 0 } dir ? dir : null;
        var started = new BenchMailServers(null, "", directory);
        if (exit == 0 && values.GetValueOrDefault("IMAP") is { Length: > 0 } imap && imap.LastIndexOf(':') is var at and > 0
            && int.TryParse(imap.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var imapPort))
        {
            return new BenchMailServers(
                new ImapEndpoint(imap[..at], imapPort, values.GetValueOrDefault("PASSWORD") ?? ""), $"Dovecot on {imap}, started by the driver (tests/mail/servers.sh)", directory);
        }

        // Half started (Dovecot up, the SMTP sink not): stop what is there.
        await started.DisposeAsync();
        var tail = string.Join(" | ", errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(5));
        return new BenchMailServers(null, $"tests/mail/servers.sh could not start the mail servers (exit {exit}): {tail}", null);
    }

    /// <summary>Stops the servers this driver started (none when they were given); a failure is reported, never thrown.</summary>
    public async ValueTask DisposeAsync()
    {
        if (mailDirectory is null)
        {
            return;
        }

        try
        {
            var (exit, _, errors) = await BashAsync("""source "$1"; MAIL_DIR="$2"; mail_servers_stop""", [Script, mailDirectory], StopLimit, CancellationToken.None);
            if (exit != 0)
            {
                await Console.Error.WriteLineAsync($"warning: stopping the mail servers in {mailDirectory} exited with {exit}: {errors.Trim()}");
            }
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            await Console.Error.WriteLineAsync($"warning: could not stop the mail servers in {mailDirectory}: {e.Message}");
        }
    }

    /// <summary>Runs a bash snippet with positional arguments, bounded in time; its exit code, stdout and stderr.</summary>
    private static async Task<(int Exit, string Output, string Errors)> BashAsync(string snippet, IReadOnlyList<string> arguments, TimeSpan limit, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("bash")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(snippet);
        startInfo.ArgumentList.Add("bash");
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"tests/mail/servers.sh did not finish within {limit.TotalSeconds:0} s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
