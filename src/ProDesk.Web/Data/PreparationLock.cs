using ProDesk.Web.Hosting;

namespace ProDesk.Web.Data;

/// <summary>
/// One process at a time migrates and seeds a data directory: a web host starting while <c>token create</c> runs its
/// first-start seeding (both in Development, on a fresh clone) would otherwise both create the demo users, and the
/// second would fail on a name the first just took. An exclusive lock on a file in the data directory (flock on
/// Linux), held for the preparation; the other process waits for it and then finds everything in place.
/// </summary>
public static class PreparationLock
{
    public const string FileName = ".prepare.lock";

    /// <summary>How long a process waits for another's preparation before giving up with a clear reason.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public static async Task<IAsyncDisposable> HoldAsync(string dataDirectory, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        PrivateFiles.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        var giveUpAt = clock.GetUtcNow() + MaxWait;
        while (true)
        {
            try
            {
                return PrivateFiles.Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new StartupException($"the data directory {dataDirectory} is not writable by this process ({e.Message})");
            }
            catch (IOException) when (clock.GetUtcNow() < giveUpAt)
            {
                // Another process is preparing: look again shortly (a cross-process lock has no event to wait on).
                await Task.Delay(TimeSpan.FromMilliseconds(200), clock, cancellationToken);
            }
            catch (IOException e)
            {
                throw new StartupException($"another process has been preparing the database in {dataDirectory} for over {MaxWait.TotalMinutes:0} minutes ({path}: {e.Message})");
            }
        }
    }
}
