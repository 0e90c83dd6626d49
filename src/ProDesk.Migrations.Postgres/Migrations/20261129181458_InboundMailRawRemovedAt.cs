using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class InboundMailRawRemovedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "RawRemovedAt",
                table: "InboundMails",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundMails_RawKept",
                table: "InboundMails",
                column: "ReceivedAt",
                filter: "\"RawRemovedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_InboundMails_RawKept",
                table: "InboundMails");

            migrationBuilder.DropColumn(
                name: "RawRemovedAt",
                table: "InboundMails");
        }
    }
}
