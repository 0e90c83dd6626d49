using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ProDesk.Testing;

/// <summary>
/// The real app, on real Kestrel, as a child process listening on a free loopback port. Its stdout
/// and stderr are drained all the time (a full pipe would stall it) into a bounded buffer whose
/// tail goes into failure messages. Disposing kills the whole process tree. Shared by the browser
/// tests and the benchmark driver (linked into both projects).
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private const int KeptLines = 500;
    private const int PortAttempts = 3;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly Process process;
    private readonly Queue<(long Number, string Text)> lines = new();
    private readonly Lock linesLock = new();
    private long lineCount;

    private AppProcess(Process process, Uri baseAddress)
    {
        this.process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>The app's root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The app's process id (the dotnet host running it), e.g. to read its CPU time.</summary>
    public int ProcessId => process.Id;

    /// <summary>A mark in the app's output: <see cref="OutputSince"/> gives what it wrote after it.</summary>
    public long OutputMark
    {
        get
        {
            lock (linesLock)
            {
                return lineCount;
            }
        }
    }

    /// <summary>
    /// Starts the app with these environment variables (on top of the caller's) and returns once
    /// GET /health/ready answers 200. Throws, with the tail of the app's output, when it exits or is
    /// not ready within <paramref name="readyTimeout"/>; the process is killed either way.
    /// </summary>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string> environment, TimeSpan readyTimeout, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var app = Launch(environment, FreeLoopbackPort());
            try
            {
                await app.WaitUntilReadyAsync(readyTimeout, cancellationToken);
                return app;
            }
            catch (InvalidOperationException) when (attempt < PortAttempts && app.LostThePortRace())
            {
                // Another process took the port between our probe and the app's bind: try a new one.
                await app.DisposeAsync();
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>The lines the app wrote after <paramref name="mark"/> (as far as the buffer still holds them).</summary>
    public string OutputSince(long mark)
    {
        lock (linesLock)
        {
            return string.Join('\n', lines.Where(l => l.Number > mark).Select(l => l.Text));
        }
    }

    /// <summary>The app's last <paramref name="count"/> lines of output, stderr lines marked "err|".</summary>
    public string Tail(int count = 60)
    {
        lock (linesLock)
        {
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Count - count)).Select(l => l.Text));
        }
    }

    /// <summary>Fails with the output tail if the app died (a crash under load must not pass as a slow run).</summary>
    public void EnsureRunning()
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"The app exited with code {process.ExitCode}.\n--- app output (tail) ---\n{Tail()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnHostExit;
        Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed but not reaped in time; nothing more can be done from here.
        }

        process.Dispose();
    }

    private static AppProcess Launch(IReadOnlyDictionary<string, string> environment, int port)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Repository.AppDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Repository.AppAssembly());
        startInfo.ArgumentList.Add("--urls");
        startInfo.ArgumentList.Add(baseAddress.GetLeftPart(UriPartial.Authority));

        // Only --urls decides where the app listens: loopback, the port probed above.
        foreach (var name in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS" })
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var app = new AppProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => app.Append(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data, error: true);
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        AppDomain.CurrentDomain.ProcessExit += app.KillOnHostExit;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var exited = process.WaitForExitAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The app exited with code {process.ExitCode} before it was ready.\n--- app output (tail) ---\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("health/ready", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "no answer within 5 s";
            }

            // Wake early if the app dies meanwhile.
            await Task.WhenAny(exited, Task.Delay(PollInterval, cancellationToken));
        }

        throw new TimeoutException(
            $"The app was not ready at {BaseAddress}health/ready within {timeout.TotalSeconds:0} s (last: {last}).\n--- app output (tail) ---\n{Tail()}");
    }

    private bool LostThePortRace() =>
        process.HasExited && Tail().Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private void Append(string? text, bool error)
    {
        if (text is null)
        {
            return;
        }

        lock (linesLock)
        {
            lines.Enqueue((++lineCount, error ? "err| " + text : text));
            if (lines.Count > KeptLines)
            {
                lines.Dequeue();
            }
        }
    }

    private void KillOnHostExit(object? sender, EventArgs e) => Kill();

    private void Kill()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>The dotnet host that runs this process (or the one the SDK named), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }

    /// <summary>A loopback port nothing listens on at the moment of asking.</summary>
    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
