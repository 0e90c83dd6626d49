using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemMessagesAutomatic : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Automatic",
                table: "WorkItemMessages",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Automatic",
                table: "WorkItemMessages");
        }
    }
}
