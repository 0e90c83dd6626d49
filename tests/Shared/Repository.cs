using System.Reflection;

namespace ProDesk.Testing;

/// <summary>
/// Where the repository and the app build live, as seen from this assembly: the app runs from its
/// own build output in the configuration this assembly was built in (bin/Release or bin/Debug), so
/// `-c Release --no-build` never runs a stale Debug app.
/// </summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } configuration
            ? configuration
            : "Release";

    /// <summary>The app's project folder: its working directory and content root, as under `dotnet run`.</summary>
    public static string AppDirectory => Path.Combine(Root, "src", "ProDesk.Web");

    public static string SeedDirectory => Path.Combine(Root, "tenants-seed");

    /// <summary>The app's entry assembly, built beside this one (same configuration and target framework).</summary>
    public static string AppAssembly()
    {
        var targetFramework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var path = Path.Combine(AppDirectory, "bin", Configuration, targetFramework, "ProDesk.Web.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"The app is not built at {path}; run `dotnet build ProDesk.sln -c {Configuration}` first.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ProDesk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ProDesk.sln above {AppContext.BaseDirectory}.");
    }
}
