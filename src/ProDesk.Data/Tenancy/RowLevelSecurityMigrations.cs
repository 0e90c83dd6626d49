using Microsoft.EntityFrameworkCore.Migrations;

namespace ProDesk.Data.Tenancy;

public static class RowLevelSecurityMigrations
{
    /// <summary>
    /// For PostgreSQL migrations: call once for every new tenant-owned table
    /// (a test lists the tables that lack it).
    /// </summary>
    public static void EnableRowLevelSecurity(this MigrationBuilder migrationBuilder, string table) =>
        migrationBuilder.Sql(RowLevelSecurity.Enable(table));

    public static void DisableRowLevelSecurity(this MigrationBuilder migrationBuilder, string table) =>
        migrationBuilder.Sql(RowLevelSecurity.Disable(table));
}
