using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;

namespace ProDesk.Web.Channels;

/// <summary>
/// Messages from one sender on a channel that continues the sender's latest conversation (SMS, WhatsApp)
/// are taken in one at a time. A burst (several photos sent at once) then joins one conversation, where
/// racing copies each created one, or lost their item update three times over and answered 500.
/// In process for every provider; on PostgreSQL also across nodes, by an advisory lock held on the
/// ingestion's one connection for as long as it runs.
/// </summary>
public static class SenderLock
{
    private sealed class Gate : IDisposable
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);

        public int Users;

        public void Dispose() => Semaphore.Dispose();
    }

    private static readonly ConcurrentDictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    /// <summary>Waits until no other ingestion holds <paramref name="key"/>; disposing the result lets the next one in.</summary>
    public static async Task<IAsyncDisposable> AcquireAsync(ProDeskDbContext db, string key, CancellationToken cancellationToken)
    {
        var gate = Enter(key);
        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key, gate);
            throw;
        }

        var held = new Held(db, key, gate);
        try
        {
            if (db.Database.IsNpgsql())
            {
                // Session-level: it must outlast the transaction SaveChanges makes; released in Held.DisposeAsync, or with the session.
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock(hashtextextended({key}, 0))", cancellationToken);
                held.OnPostgres = true;
            }
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }

        return held;
    }

    private static Gate Enter(string key)
    {
        while (true)
        {
            var gate = Gates.GetOrAdd(key, _ => new Gate());
            lock (gate)
            {
                // A gate already taken out of the map by its last user is not reused.
                if (gate.Users >= 0)
                {
                    gate.Users++;
                    return gate;
                }
            }
        }
    }

    private static void Leave(string key, Gate gate)
    {
        lock (gate)
        {
            if (--gate.Users == 0)
            {
                gate.Users = -1;
                Gates.TryRemove(KeyValuePair.Create(key, gate));
                gate.Dispose();
            }
        }
    }

    private sealed class Held(ProDeskDbContext db, string key, Gate gate) : IAsyncDisposable
    {
        public bool OnPostgres { get; set; }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (OnPostgres)
                {
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({key}, 0))", CancellationToken.None);
                }
            }
            finally
            {
                gate.Semaphore.Release();
                Leave(key, gate);
            }
        }
    }
}
