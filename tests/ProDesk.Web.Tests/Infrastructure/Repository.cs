namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>Paths in the repository the tests run from.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string SeedDirectory => Path.Combine(Root, "tenants-seed");

    /// <summary>The built ProDesk.Web.dll of the same configuration as this test assembly.</summary>
    public static string WebDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(Root, "src", "ProDesk.Web", "bin", configuration, "net10.0", "ProDesk.Web.dll");
        }
    }

    /// <summary>A copy of tenants-seed/ in a temp folder, for tests that break it on purpose.</summary>
    public static string CopySeed()
    {
        var target = Directory.CreateTempSubdirectory("prodesk-seed-").FullName;
        foreach (var file in Directory.GetFiles(SeedDirectory, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(SeedDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
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

        throw new InvalidOperationException("ProDesk.sln not found above " + AppContext.BaseDirectory);
    }
}
