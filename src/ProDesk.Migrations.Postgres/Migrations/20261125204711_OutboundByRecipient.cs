using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OutboundByRecipient : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_TenantId_To_CreatedAt",
                table: "OutboundMessages",
                columns: new[] { "TenantId", "To", "CreatedAt" },
                filter: "\"Automatic\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_OutboundMessages_TenantId_To_CreatedAt",
                table: "OutboundMessages");
        }
    }
}
