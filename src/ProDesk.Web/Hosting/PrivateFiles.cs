namespace ProDesk.Web.Hosting;

/// <summary>
/// The data directory holds every tenant's mail, files and (on SQLite) database: on Linux its directories are made
/// 0700 and its files 0600, so other accounts on the machine read none of it, whatever the umask. On Windows the
/// directory's inherited ACL decides, as before.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>What only the app puts in its data directory: the SQLite database, the blobs, the preparation lock.</summary>
    private static readonly string[] AppsOwn = ["prodesk.db", "blobs", ".prepare.lock"];

    /// <summary>Creates the directory and its missing parents readable by this account only; one already there is left as it is.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // One by one from the first that exists: Directory.CreateDirectory gives the mode to the last one only, and makes
        // the parents under the umask (blobs/ and blobs/{tenant}/ came out 0755 above a 0700 mail folder).
        var missing = new Stack<string>();
        for (var directory = Path.GetFullPath(path); directory is not null && !Directory.Exists(directory); directory = Path.GetDirectoryName(directory))
        {
            missing.Push(directory);
        }

        foreach (var directory in missing)
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
    }

    /// <summary>A file stream whose file, when this creates it, is readable by this account only.</summary>
    public static FileStream Open(string path, FileMode mode, FileAccess access, FileShare share, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        var open = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = options };
        if (!OperatingSystem.IsWindows())
        {
            open.UnixCreateMode = OwnerOnlyFile;
        }

        return new FileStream(path, open);
    }

    /// <summary>
    /// At start: a data directory made before this (by an older version, or by hand under the umask's 0755) is made
    /// 0700, with the blob directories under it. Only a directory that is the app's (it holds the database, the blobs
    /// or the preparation lock): a data directory set to a shared folder by mistake is not locked up. A directory this
    /// account may not change is left as it is; writing to it says what is wrong.
    /// </summary>
    public static void Tighten(string dataDirectory)
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(dataDirectory)
            || !AppsOwn.Any(name => Path.Exists(Path.Combine(dataDirectory, name))))
        {
            return;
        }

        try
        {
            var blobs = Path.Combine(dataDirectory, "blobs");
            IEnumerable<string> owned = [dataDirectory];
            if (Directory.Exists(blobs))
            {
                // blobs/{tenant} and blobs/{tenant}/mail: a handful per tenant.
                owned = owned.Append(blobs).Concat(Directory.EnumerateDirectories(blobs).SelectMany(tenant => new[] { tenant, Path.Combine(tenant, "mail") }).Where(Directory.Exists));
            }

            foreach (var directory in owned.ToList())
            {
                if ((File.GetUnixFileMode(directory) & ~OwnerOnlyDirectory) != 0)
                {
                    File.SetUnixFileMode(directory, File.GetUnixFileMode(directory) & OwnerOnlyDirectory);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not this account's to change: left as the operator made it.
        }
    }
}
