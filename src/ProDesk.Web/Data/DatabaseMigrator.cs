using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProDesk.Data;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Data;

/// <summary>Applies migrations and refuses a PostgreSQL role that would skip row-level security.</summary>
public sealed class DatabaseMigrator(ProDeskDbContext db, DatabaseSettings settings, ILogger<DatabaseMigrator> logger)
{
    /// <summary>Migrates the database. Callers hold the data directory's <see cref="PreparationLock"/>.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            await ClearAbandonedSqliteLockAsync(cancellationToken);
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count == 0)
        {
            logger.LogInformation("Database schema is up to date ({Provider})", settings.Provider);
            return;
        }

        logger.LogInformation("Applying {Count} migration(s) on {Provider}: {Migrations}", pending.Count, settings.Provider, pending);
        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets readers go on while a writer writes; it is a property of the file, set once.
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await db.Database.CloseConnectionAsync();
        }

        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>
    /// EF Core marks a SQLite migration in progress with a row in its lock table, which a process killed mid-migration
    /// leaves behind: every later start then waited for it for ever, saying nothing (probe round 8). The caller holds
    /// the <see cref="PreparationLock"/>, so no other process is migrating this data directory's database: a row found
    /// now is such a leftover. (PostgreSQL's migration lock is a session's advisory lock, which dies with the session.)
    /// </summary>
    private async Task ClearAbandonedSqliteLockAsync(CancellationToken cancellationToken)
    {
        var tables = await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsLock'")
            .SingleAsync(cancellationToken);
        if (tables > 0 && await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsLock\"", cancellationToken) > 0)
        {
            logger.LogWarning("Removed the migration lock a stopped process left in the SQLite database; migrating now");
        }
    }

    /// <summary>
    /// Superusers and BYPASSRLS roles are not bound by row-level security, which would leave the
    /// query filter as the only wall between tenants; ProDesk will not run that way.
    /// </summary>
    public async Task EnsureSafeRoleAsync(CancellationToken cancellationToken = default)
    {
        if (settings.Provider != DatabaseProvider.Postgres)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StartupException($"cannot connect to PostgreSQL ({e.Message})", e);
        }

        await using var command = new NpgsqlCommand("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken) && (reader.GetBoolean(1) || reader.GetBoolean(2)))
        {
            throw new StartupException(
                $"the PostgreSQL role '{reader.GetString(0)}' is a superuser or has BYPASSRLS, so row-level security would not bind it; connect as an ordinary role that owns the database");
        }
    }
}
