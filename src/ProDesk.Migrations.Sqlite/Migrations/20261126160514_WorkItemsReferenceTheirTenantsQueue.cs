using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemsReferenceTheirTenantsQueue : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // SQLite cannot add a constraint without rebuilding the table, and the rebuild of "WorkItems" below needs
            // the parent key first; a unique index is a parent key to SQLite and needs no rebuild (as in WorkItemRowsKeyedByTenant).
            migrationBuilder.Sql("CREATE UNIQUE INDEX \"AK_Queues_TenantId_Id\" ON \"Queues\" (\"TenantId\", \"Id\");");

            migrationBuilder.DropForeignKey(
                name: "FK_InboundMails_Tenants_TenantId",
                table: "InboundMails");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItems_Queues_QueueId",
                table: "WorkItems");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItems_Tenants_TenantId",
                table: "WorkItems");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_QueueId",
                table: "WorkItems");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_TenantId_QueueId",
                table: "WorkItems",
                columns: new[] { "TenantId", "QueueId" });

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItems_Queues_TenantId_QueueId",
                table: "WorkItems",
                columns: new[] { "TenantId", "QueueId" },
                principalTable: "Queues",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_WorkItems_Queues_TenantId_QueueId",
                table: "WorkItems");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_TenantId_QueueId",
                table: "WorkItems");

            migrationBuilder.Sql("DROP INDEX \"AK_Queues_TenantId_Id\";");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_QueueId",
                table: "WorkItems",
                column: "QueueId");

            migrationBuilder.AddForeignKey(
                name: "FK_InboundMails_Tenants_TenantId",
                table: "InboundMails",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItems_Queues_QueueId",
                table: "WorkItems",
                column: "QueueId",
                principalTable: "Queues",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItems_Tenants_TenantId",
                table: "WorkItems",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }
    }
}
