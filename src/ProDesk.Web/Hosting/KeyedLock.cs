using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Work on one key done one at a time, in this process and across nodes. Messages from one sender on a channel
/// that continues the sender's latest conversation (SMS, WhatsApp) are taken in one at a time: a burst (several
/// photos sent at once) then joins one conversation, where racing copies each created one, or lost their item
/// update three times over and answered 500. Copies of one mail, and mailbox set-ups (whose check that no other
/// tenant polls the account must not interleave with another's write), likewise.
/// In process (<see cref="WaitAsync"/>, before any database connection is taken, so a burst of waiters
/// holds none of the pool), and on PostgreSQL also across nodes (<see cref="HoldAcrossNodesAsync"/>, an
/// advisory lock on the ingestion's one connection for as long as it runs).
/// </summary>
public static class KeyedLock
{
    private sealed class Gate : IDisposable
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);

        public int Users;

        public void Dispose() => Semaphore.Dispose();
    }

    private static readonly ConcurrentDictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    /// <summary>Waits until nothing else in this process holds <paramref name="key"/>; disposing the result lets the next one in.</summary>
    public static async Task<IDisposable> WaitAsync(string key, CancellationToken cancellationToken)
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

        return new InProcess(key, gate);
    }

    /// <summary>
    /// On PostgreSQL, holds <paramref name="key"/> against other nodes on the context's open connection until disposed.
    /// The pool does not reset sessions, so the lock is released whatever happens: unlocking one not held is harmless,
    /// and a connection whose unlock fails is closed, which ends its session and the lock with it.
    /// </summary>
    public static async Task<IAsyncDisposable?> HoldAcrossNodesAsync(ProDeskDbContext db, string key, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql())
        {
            return null;
        }

        var held = new AcrossNodes(db, key);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock(hashtextextended({key}, 0))", cancellationToken);
        }
        catch
        {
            // Cancelled or failed: the lock may still have been granted on the server.
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

    private sealed class InProcess(string key, Gate gate) : IDisposable
    {
        public void Dispose()
        {
            gate.Semaphore.Release();
            Leave(key, gate);
        }
    }

    private sealed class AcrossNodes(ProDeskDbContext db, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({key}, 0))", CancellationToken.None);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                if (db.Database.GetDbConnection() is Npgsql.NpgsqlConnection connection)
                {
                    // Not pooled again (a busy connection is closed when returned after ClearPool): the server
                    // ends the session, and the lock with it.
                    Npgsql.NpgsqlConnection.ClearPool(connection);
                    connection.Close();
                }
            }
        }
    }
}
