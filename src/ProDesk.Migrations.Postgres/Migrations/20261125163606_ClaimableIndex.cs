using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class ClaimableIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems",
                columns: new[] { "Priority", "CreatedAt", "Id" },
                descending: new[] { true, false, false },
                filter: "\"Status\" = 'Open' AND \"AssigneeId\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems");
        }
    }
}
