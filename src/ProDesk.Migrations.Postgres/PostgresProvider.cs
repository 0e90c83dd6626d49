using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using ProDesk.Data;

namespace ProDesk.Migrations.Postgres;

/// <summary>How the host and the EF tools configure the context on PostgreSQL: one place, one model.</summary>
public static class PostgresProvider
{
    public static DbContextOptionsBuilder Use(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(typeof(PostgresProvider).Assembly.GetName().Name));

    /// <summary>
    /// The physical session behind an open connection, for <see cref="Data.Tenancy.RowLevelSecurityInterceptor"/>:
    /// Npgsql's dictionary of the server's session parameters belongs to one physical connection (its connector)
    /// and lives and dies with it, while the pooled <c>NpgsqlConnection</c> object may sit on a different one
    /// after each open (a test holds Npgsql to this). Where the pool resets sessions (an operator's
    /// <c>No Reset On Close=false</c>) nothing set survives a close, and the connection object itself is
    /// answered: the interceptor forgets that key whenever the connection closes.
    /// </summary>
    public static object SessionOf(System.Data.Common.DbConnection connection) =>
        KeepsSessions.GetOrAdd(connection.ConnectionString, text => new Npgsql.NpgsqlConnectionStringBuilder(text).NoResetOnClose)
            ? ((Npgsql.NpgsqlConnection)connection).PostgresParameters
            : connection;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> KeepsSessions = new(StringComparer.Ordinal);
}

/// <summary>Used by <c>dotnet ef</c> (infra/add-migration.sh); no database is needed to add a migration.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<ProDeskDbContext>
{
    public ProDeskDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__ProDesk") ?? "Host=127.0.0.1;Database=prodesk_design";
        var options = PostgresProvider.Use(new DbContextOptionsBuilder<ProDeskDbContext>(), connectionString);
        return new ProDeskDbContext((DbContextOptions<ProDeskDbContext>)options.Options);
    }
}
