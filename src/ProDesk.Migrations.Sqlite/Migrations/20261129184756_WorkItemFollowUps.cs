using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemFollowUps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "FollowUpOfId",
                table: "WorkItems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_TenantId_FollowUpOfId",
                table: "WorkItems",
                columns: new[] { "TenantId", "FollowUpOfId" },
                filter: "\"FollowUpOfId\" IS NOT NULL");

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItems_WorkItems_TenantId_FollowUpOfId",
                table: "WorkItems",
                columns: new[] { "TenantId", "FollowUpOfId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_WorkItems_WorkItems_TenantId_FollowUpOfId",
                table: "WorkItems");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_TenantId_FollowUpOfId",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "FollowUpOfId",
                table: "WorkItems");
        }
    }
}
