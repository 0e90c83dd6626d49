using System;
using Microsoft.EntityFrameworkCore.Migrations;
using ProDesk.Data.Tenancy;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SmsKeywordTextsAndDeliveryStatus : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ProviderErrorCode",
                table: "OutboundMessages",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ProviderStatus",
                table: "OutboundMessages",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "SmsKeywordTexts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    MessageSid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Number = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Keyword = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    WorkItemId = table.Column<Guid>(type: "uuid", nullable: true),
                    ReceivedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SmsKeywordTexts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SmsKeywordTexts_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SmsKeywordTexts_TenantId_MessageSid",
                table: "SmsKeywordTexts",
                columns: new[] { "TenantId", "MessageSid" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SmsKeywordTexts_TenantId_Number_ReceivedAt",
                table: "SmsKeywordTexts",
                columns: new[] { "TenantId", "Number", "ReceivedAt" });

            migrationBuilder.EnableRowLevelSecurity("SmsKeywordTexts");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SmsKeywordTexts");

            migrationBuilder.DropColumn(
                name: "ProviderErrorCode",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "ProviderStatus",
                table: "OutboundMessages");
        }
    }
}
