using System.Diagnostics;

namespace ProDesk.Benchmarks;

/// <summary>
/// The app's own command line (CONTRACT.md), run from the same build as the app under test. The
/// benchmark needs it for personal access tokens: they are stored hashed, so only the app can make
/// one whose secret the benchmark then knows.
/// </summary>
internal static class AppCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary><c>token create --email EMAIL</c>: a new personal access token (pdk_...) of that user.</summary>
    public static async Task<string> CreateTokenAsync(BenchDatabase database, string email, CancellationToken cancellationToken)
    {
        var output = await RunAsync(database, ["token", "create", "--email", email, "--name", "benchmark"], cancellationToken);
        return output.Split('\n', StringSplitOptions.TrimEntries).LastOrDefault(line => line.StartsWith("pdk_", StringComparison.Ordinal))
               ?? throw new InvalidOperationException($"`token create --email {email}` printed no token");
    }

    /// <summary>Runs one verb to completion (bounded) and returns its stdout; a non-zero exit throws with its stderr.</summary>
    private static async Task<string> RunAsync(BenchDatabase database, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Repository.AppDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Repository.AppAssembly());
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["Database__Provider"] = "Postgres";
        startInfo.Environment["ConnectionStrings__ProDesk"] = database.AppConnectionString;
        startInfo.Environment["ConnectionStrings__Redis"] = "";
        startInfo.Environment["ProDesk__SeedDirectory"] = Repository.SeedDirectory;

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the app's command line");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"`{string.Join(' ', arguments)}` did not finish within {Timeout.TotalSeconds:0} s");
        }

        var output = await stdout;
        var errors = await stderr;
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"`{string.Join(' ', arguments)}` exited with {process.ExitCode}: {errors.Trim()}");
    }

    /// <summary>The dotnet host running this process (or the one the SDK named), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }
}
