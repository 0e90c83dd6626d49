using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
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
                type: "character varying(6500)",
                maxLength: 6500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Cc",
                table: "OutboundMessages",
                type: "character varying(6500)",
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
