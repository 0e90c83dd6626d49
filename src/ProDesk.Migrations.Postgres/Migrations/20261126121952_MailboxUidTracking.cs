using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class MailboxUidTracking : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LastUid",
                table: "Mailboxes",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "UidValidity",
                table: "Mailboxes",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastUid",
                table: "Mailboxes");

            migrationBuilder.DropColumn(
                name: "UidValidity",
                table: "Mailboxes");
        }
    }
}
