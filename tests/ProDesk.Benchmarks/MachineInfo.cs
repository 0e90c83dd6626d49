using System.Globalization;
using System.Runtime.InteropServices;

namespace ProDesk.Benchmarks;

/// <summary>The machine the figures come from (Linux: /proc), so RESULTS.md says what it measured on.</summary>
internal sealed record MachineInfo(int Processors, string Cpu, string Memory, string OperatingSystem, string Runtime)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        ProcValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        ProcValue("/proc/meminfo", "MemTotal") is { } total && long.TryParse(total.Split(' ')[0], CultureInfo.InvariantCulture, out var kib)
            ? $"{kib / 1024.0 / 1024.0:0.0} GiB"
            : "unknown",
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription);

    private static string? ProcValue(string file, string key)
    {
        try
        {
            return File.ReadLines(file)
                .Where(line => line.StartsWith(key, StringComparison.Ordinal) && line.Contains(':', StringComparison.Ordinal))
                .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
