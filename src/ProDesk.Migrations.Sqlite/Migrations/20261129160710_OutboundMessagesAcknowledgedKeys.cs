using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OutboundMessagesAcknowledgedKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "AcknowledgedSubjectKey",
                table: "OutboundMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "AcknowledgedTextKey",
                table: "OutboundMessages",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AcknowledgedSubjectKey",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "AcknowledgedTextKey",
                table: "OutboundMessages");
        }
    }
}
