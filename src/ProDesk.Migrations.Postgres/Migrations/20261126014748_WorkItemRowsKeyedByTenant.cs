using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemRowsKeyedByTenant : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_CsatRatings_Tenants_TenantId",
                table: "CsatRatings");

            migrationBuilder.DropForeignKey(
                name: "FK_CsatRatings_WorkItems_WorkItemId",
                table: "CsatRatings");

            migrationBuilder.DropForeignKey(
                name: "FK_OutboundMessages_Tenants_TenantId",
                table: "OutboundMessages");

            migrationBuilder.DropForeignKey(
                name: "FK_OutboundMessages_WorkItems_WorkItemId",
                table: "OutboundMessages");

            migrationBuilder.DropForeignKey(
                name: "FK_OutboxEvents_Tenants_TenantId",
                table: "OutboxEvents");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaClockEntries_Tenants_TenantId",
                table: "SlaClockEntries");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaClockEntries_WorkItems_WorkItemId",
                table: "SlaClockEntries");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaTimers_Tenants_TenantId",
                table: "SlaTimers");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaTimers_WorkItems_WorkItemId",
                table: "SlaTimers");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemAttachments_Tenants_TenantId",
                table: "WorkItemAttachments");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemAttachments_WorkItems_WorkItemId",
                table: "WorkItemAttachments");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemChanges_Tenants_TenantId",
                table: "WorkItemChanges");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemChanges_WorkItems_WorkItemId",
                table: "WorkItemChanges");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemMessages_Tenants_TenantId",
                table: "WorkItemMessages");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemMessages_WorkItems_WorkItemId",
                table: "WorkItemMessages");

            migrationBuilder.DropIndex(
                name: "IX_WorkItemMessages_WorkItemId",
                table: "WorkItemMessages");

            migrationBuilder.DropIndex(
                name: "IX_WorkItemChanges_WorkItemId",
                table: "WorkItemChanges");

            migrationBuilder.DropIndex(
                name: "IX_WorkItemAttachments_WorkItemId",
                table: "WorkItemAttachments");

            migrationBuilder.DropIndex(
                name: "IX_SlaTimers_WorkItemId",
                table: "SlaTimers");

            migrationBuilder.DropIndex(
                name: "IX_SlaClockEntries_WorkItemId",
                table: "SlaClockEntries");

            migrationBuilder.DropIndex(
                name: "IX_OutboundMessages_WorkItemId",
                table: "OutboundMessages");

            migrationBuilder.DropIndex(
                name: "IX_CsatRatings_WorkItemId",
                table: "CsatRatings");

            migrationBuilder.AddUniqueConstraint(
                name: "AK_WorkItems_TenantId_Id",
                table: "WorkItems",
                columns: new[] { "TenantId", "Id" });

            migrationBuilder.AddForeignKey(
                name: "FK_CsatRatings_WorkItems_TenantId_WorkItemId",
                table: "CsatRatings",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboundMessages_WorkItems_TenantId_WorkItemId",
                table: "OutboundMessages",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaClockEntries_WorkItems_TenantId_WorkItemId",
                table: "SlaClockEntries",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaTimers_WorkItems_TenantId_WorkItemId",
                table: "SlaTimers",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemAttachments_WorkItems_TenantId_WorkItemId",
                table: "WorkItemAttachments",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemChanges_WorkItems_TenantId_WorkItemId",
                table: "WorkItemChanges",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemMessages_WorkItems_TenantId_WorkItemId",
                table: "WorkItemMessages",
                columns: new[] { "TenantId", "WorkItemId" },
                principalTable: "WorkItems",
                principalColumns: new[] { "TenantId", "Id" },
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_CsatRatings_WorkItems_TenantId_WorkItemId",
                table: "CsatRatings");

            migrationBuilder.DropForeignKey(
                name: "FK_OutboundMessages_WorkItems_TenantId_WorkItemId",
                table: "OutboundMessages");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaClockEntries_WorkItems_TenantId_WorkItemId",
                table: "SlaClockEntries");

            migrationBuilder.DropForeignKey(
                name: "FK_SlaTimers_WorkItems_TenantId_WorkItemId",
                table: "SlaTimers");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemAttachments_WorkItems_TenantId_WorkItemId",
                table: "WorkItemAttachments");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemChanges_WorkItems_TenantId_WorkItemId",
                table: "WorkItemChanges");

            migrationBuilder.DropForeignKey(
                name: "FK_WorkItemMessages_WorkItems_TenantId_WorkItemId",
                table: "WorkItemMessages");

            migrationBuilder.DropUniqueConstraint(
                name: "AK_WorkItems_TenantId_Id",
                table: "WorkItems");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItemMessages_WorkItemId",
                table: "WorkItemMessages",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItemChanges_WorkItemId",
                table: "WorkItemChanges",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItemAttachments_WorkItemId",
                table: "WorkItemAttachments",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_SlaTimers_WorkItemId",
                table: "SlaTimers",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_SlaClockEntries_WorkItemId",
                table: "SlaClockEntries",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_WorkItemId",
                table: "OutboundMessages",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_CsatRatings_WorkItemId",
                table: "CsatRatings",
                column: "WorkItemId");

            migrationBuilder.AddForeignKey(
                name: "FK_CsatRatings_Tenants_TenantId",
                table: "CsatRatings",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_CsatRatings_WorkItems_WorkItemId",
                table: "CsatRatings",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboundMessages_Tenants_TenantId",
                table: "OutboundMessages",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboundMessages_WorkItems_WorkItemId",
                table: "OutboundMessages",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboxEvents_Tenants_TenantId",
                table: "OutboxEvents",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaClockEntries_Tenants_TenantId",
                table: "SlaClockEntries",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaClockEntries_WorkItems_WorkItemId",
                table: "SlaClockEntries",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaTimers_Tenants_TenantId",
                table: "SlaTimers",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_SlaTimers_WorkItems_WorkItemId",
                table: "SlaTimers",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemAttachments_Tenants_TenantId",
                table: "WorkItemAttachments",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemAttachments_WorkItems_WorkItemId",
                table: "WorkItemAttachments",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemChanges_Tenants_TenantId",
                table: "WorkItemChanges",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemChanges_WorkItems_WorkItemId",
                table: "WorkItemChanges",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemMessages_Tenants_TenantId",
                table: "WorkItemMessages",
                column: "TenantId",
                principalTable: "Tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_WorkItemMessages_WorkItems_WorkItemId",
                table: "WorkItemMessages",
                column: "WorkItemId",
                principalTable: "WorkItems",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
