using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using ProDesk.Data;
using ProDesk.Migrations.Postgres;
using ProDesk.Migrations.Sqlite;

namespace ProDesk.Web.Tests.Features.Data;

/// <summary>Both providers' migrations match the model: a model change without infra/add-migration.sh fails here.</summary>
public sealed class MigrationsTests
{
    public static TheoryData<string> Providers => ["Postgres", "Sqlite"];

    private static ProDeskDbContext Create(string provider) => provider == "Postgres"
        ? new PostgresDesignTimeFactory().CreateDbContext([])
        : new SqliteDesignTimeFactory().CreateDbContext([]);

    [Theory]
    [MemberData(nameof(Providers))]
    public void Neither_provider_has_pending_model_changes(string provider)
    {
        using var db = Create(provider);
        Assert.False(db.Database.HasPendingModelChanges(), $"{provider}: the model has changed; run infra/add-migration.sh NAME");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Each_provider_keeps_its_migrations_in_its_own_assembly(string provider)
    {
        using var db = Create(provider);
        var migrations = db.GetService<IMigrationsAssembly>();
        Assert.Equal($"ProDesk.Migrations.{provider}", migrations.Assembly.GetName().Name);
        Assert.NotEmpty(migrations.Migrations);
    }

    [Fact]
    public void Postgres_migrations_enable_row_level_security_for_every_tenant_owned_table()
    {
        using var db = Create("Postgres");
        var sql = string.Join('\n', db.GetService<IMigrationsAssembly>().Migrations.Values
            .Select(type => (Migration)Activator.CreateInstance(type)!)
            .SelectMany(m => m.UpOperations.OfType<Microsoft.EntityFrameworkCore.Migrations.Operations.SqlOperation>())
            .Select(o => o.Sql));
        var missing = ProDeskDbContext.TenantOwnedTables(db.Model)
            .Where(table => !sql.Contains($"ALTER TABLE \"{table}\" FORCE ROW LEVEL SECURITY", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(missing);
    }
}
