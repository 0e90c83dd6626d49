using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using ProDesk.Data;

namespace ProDesk.Migrations.Sqlite;

/// <summary>How the host and the EF tools configure the context on SQLite: one place, one model.</summary>
public static class SqliteProvider
{
    public static DbContextOptionsBuilder Use(DbContextOptionsBuilder options, string connectionString) =>
        options.UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(SqliteProvider).Assembly.GetName().Name));
}

/// <summary>Used by <c>dotnet ef</c> (infra/add-migration.sh).</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<ProDeskDbContext>
{
    public ProDeskDbContext CreateDbContext(string[] args)
    {
        var options = SqliteProvider.Use(new DbContextOptionsBuilder<ProDeskDbContext>(), "Data Source=prodesk-design.db");
        return new ProDeskDbContext((DbContextOptions<ProDeskDbContext>)options.Options);
    }
}
