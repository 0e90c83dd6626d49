using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ProDesk.Data;

public static class OneConnection
{
    /// <summary>
    /// Runs <paramref name="work"/> on one connection checkout, opened here and closed here whatever happens.
    /// Under load every checkout waits its turn in the pool, so several statements on one beat one checkout
    /// each; and a pooled context must not go back with a connection opened by hand (ARCHITECTURE.md decision 38).
    /// </summary>
    public static async Task<T> OnOneConnectionAsync<T>(this DatabaseFacade database, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            return await work();
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }
}
