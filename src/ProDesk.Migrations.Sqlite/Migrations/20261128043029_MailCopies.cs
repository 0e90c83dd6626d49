using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class MailCopies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Cc",
                table: "WorkItemMessages",
                type: "TEXT",
                maxLength: 6500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Cc",
                table: "OutboundMessages",
                type: "TEXT",
                maxLength: 6500,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Cc",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "Cc",
                table: "OutboundMessages");
        }
    }
}
