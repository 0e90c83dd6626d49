using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProDesk.Data;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Data;

/// <summary>Applies migrations and refuses a PostgreSQL role that would skip row-level security.</summary>
public sealed class DatabaseMigrator(ProDeskDbContext db, DatabaseSettings settings, ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
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
