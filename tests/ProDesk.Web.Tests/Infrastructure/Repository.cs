namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>
/// Paths in the repository the tests run from: the shared ProDesk.Testing.Repository (linked from
/// tests/Shared), plus what only these tests need.
/// </summary>
public static class Repository
{
    public static string Root => ProDesk.Testing.Repository.Root;

    public static string SeedDirectory => ProDesk.Testing.Repository.SeedDirectory;

    /// <summary>The app's project folder: the working directory of `dotnet run --project`.</summary>
    public static string AppDirectory => ProDesk.Testing.Repository.AppDirectory;

    /// <summary>The built ProDesk.Web.dll of the same configuration as this test assembly.</summary>
    public static string WebDll => ProDesk.Testing.Repository.AppAssembly();

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
}
