using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;
using ProDesk.Data.Tenancy;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SlaClocks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems");

            migrationBuilder.AddColumn<DateTime>(
                name: "BreachedAt",
                table: "WorkItems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "DueAt",
                table: "WorkItems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SlaPolicyId",
                table: "WorkItems",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CreatedBy",
                table: "SlaPolicies",
                type: "character varying(320)",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "EscalationsJson",
                table: "SlaPolicies",
                type: "text",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<List<string>>(
                name: "PauseStatuses",
                table: "SlaPolicies",
                type: "text[]",
                nullable: false,
                // Existing policies get the defaults a new one has.
                defaultValueSql: "'{Pending,OnHold}'");

            migrationBuilder.AddColumn<List<int>>(
                name: "WarningPercents",
                table: "SlaPolicies",
                type: "integer[]",
                nullable: false,
                defaultValueSql: "'{75,90}'");

            migrationBuilder.CreateTable(
                name: "SlaClockEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    WorkItemId = table.Column<Guid>(type: "uuid", nullable: false),
                    Target = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    GoalMinutes = table.Column<int>(type: "integer", nullable: true),
                    Reason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SlaClockEntries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SlaClockEntries_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_SlaClockEntries_WorkItems_WorkItemId",
                        column: x => x.WorkItemId,
                        principalTable: "WorkItems",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SlaTimers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    WorkItemId = table.Column<Guid>(type: "uuid", nullable: false),
                    Target = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Percent = table.Column<int>(type: "integer", nullable: false),
                    FireAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DueAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FiredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SlaTimers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SlaTimers_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_SlaTimers_WorkItems_WorkItemId",
                        column: x => x.WorkItemId,
                        principalTable: "WorkItems",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems",
                columns: new[] { "Priority", "DueAt", "CreatedAt", "Id" },
                descending: new[] { true, false, false, false },
                filter: "\"Status\" = 'Open' AND \"AssigneeId\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_SlaClockEntries_TenantId_WorkItemId_Id",
                table: "SlaClockEntries",
                columns: new[] { "TenantId", "WorkItemId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_SlaClockEntries_WorkItemId",
                table: "SlaClockEntries",
                column: "WorkItemId");

            migrationBuilder.CreateIndex(
                name: "IX_SlaTimers_Armed",
                table: "SlaTimers",
                column: "FireAt",
                filter: "\"FiredAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_SlaTimers_TenantId_WorkItemId_Target",
                table: "SlaTimers",
                columns: new[] { "TenantId", "WorkItemId", "Target" });

            migrationBuilder.CreateIndex(
                name: "IX_SlaTimers_WorkItemId",
                table: "SlaTimers",
                column: "WorkItemId");

            migrationBuilder.EnableRowLevelSecurity("SlaClockEntries");
            migrationBuilder.EnableRowLevelSecurity("SlaTimers");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SlaClockEntries");

            migrationBuilder.DropTable(
                name: "SlaTimers");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "BreachedAt",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "DueAt",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "SlaPolicyId",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "CreatedBy",
                table: "SlaPolicies");

            migrationBuilder.DropColumn(
                name: "EscalationsJson",
                table: "SlaPolicies");

            migrationBuilder.DropColumn(
                name: "PauseStatuses",
                table: "SlaPolicies");

            migrationBuilder.DropColumn(
                name: "WarningPercents",
                table: "SlaPolicies");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_Claimable",
                table: "WorkItems",
                columns: new[] { "Priority", "CreatedAt", "Id" },
                descending: new[] { true, false, false },
                filter: "\"Status\" = 'Open' AND \"AssigneeId\" IS NULL");
        }
    }
}
