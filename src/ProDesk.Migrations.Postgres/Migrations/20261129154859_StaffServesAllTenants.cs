using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class StaffServesAllTenants : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "ServesAllTenants",
                table: "AspNetUsers",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            // Staff seeded with "*" before the flag existed are those serving every tenant there is: they keep serving every
            // client, present and future (probe round 20).
            migrationBuilder.Sql("""
                UPDATE "AspNetUsers" SET "ServesAllTenants" = TRUE
                WHERE "TenantId" IS NULL
                  AND (SELECT COUNT(*) FROM "Tenants") > 0
                  AND (SELECT COUNT(*) FROM "StaffTenants" s WHERE s."UserId" = "AspNetUsers"."Id") = (SELECT COUNT(*) FROM "Tenants");
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ServesAllTenants",
                table: "AspNetUsers");
        }
    }
}
