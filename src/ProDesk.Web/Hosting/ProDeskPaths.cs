namespace ProDesk.Web.Hosting;

/// <summary>
/// Where ProDesk keeps its files. Relative paths resolve against the repository root (found by
/// walking up to ProDesk.sln) so that <c>dotnet run --project src/ProDesk.Web</c> puts
/// <c>data/prodesk.db</c> beside the README; without a solution (a published build) they resolve
/// against the content root.
/// </summary>
public sealed class ProDeskPaths
{
    public ProDeskPaths(string contentRoot, string dataDirectory, string seedDirectory)
    {
        BaseDirectory = FindRepositoryRoot(contentRoot) ?? contentRoot;
        DataDirectory = Path.GetFullPath(dataDirectory, BaseDirectory);
        SeedDirectory = Path.GetFullPath(seedDirectory, BaseDirectory);
    }

    public static ProDeskPaths From(WebApplicationBuilder builder) => new(
        builder.Environment.ContentRootPath,
        builder.Configuration["ProDesk:DataDirectory"] is { Length: > 0 } data ? data : "data",
        builder.Configuration["ProDesk:SeedDirectory"] is { Length: > 0 } seed ? seed : "tenants-seed");

    public string BaseDirectory { get; }

    public string DataDirectory { get; }

    public string SeedDirectory { get; }

    public string BlobDirectory => Path.Combine(DataDirectory, "blobs");

    public string SqliteFile => Path.Combine(DataDirectory, "prodesk.db");

    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ProDesk.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
