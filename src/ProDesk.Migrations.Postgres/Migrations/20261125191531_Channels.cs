using System;
using Microsoft.EntityFrameworkCore.Migrations;
using ProDesk.Data.Tenancy;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Channels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ExternalId",
                table: "WorkItemMessages",
                type: "character varying(1100)",
                maxLength: 1100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FromAddress",
                table: "WorkItemMessages",
                type: "character varying(320)",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "HtmlBody",
                table: "WorkItemMessages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "InternetMessageId",
                table: "WorkItemMessages",
                type: "character varying(998)",
                maxLength: 998,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "WorkItemMessageId",
                table: "WorkItemAttachments",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ChannelSettings",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    InboundKeyHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    WidgetKey = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    SupportAddress = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    ReplyTokenKey = table.Column<byte[]>(type: "bytea", maxLength: 64, nullable: false),
                    SmsAuthToken = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    SmsNumber = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChannelSettings", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_ChannelSettings_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "EmailSuppressions",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Address = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Reason = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EmailSuppressions", x => new { x.TenantId, x.Address });
                    table.ForeignKey(
                        name: "FK_EmailSuppressions_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "InboundMails",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Source = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DedupeKey = table.Column<string>(type: "character varying(998)", maxLength: 998, nullable: false),
                    RawSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Subject = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    FromAddress = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    WorkItemId = table.Column<Guid>(type: "uuid", nullable: true),
                    ReceivedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundMails", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InboundMails_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Mailboxes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Port = table.Column<int>(type: "integer", nullable: false),
                    UseTls = table.Column<bool>(type: "boolean", nullable: false),
                    UserName = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    ProtectedPassword = table.Column<string>(type: "text", nullable: false),
                    Folder = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastPolledAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Mailboxes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Mailboxes_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "OutboundMessages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    WorkItemId = table.Column<Guid>(type: "uuid", nullable: false),
                    WorkItemMessageId = table.Column<Guid>(type: "uuid", nullable: true),
                    Channel = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    To = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    ToName = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    Subject = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    Body = table.Column<string>(type: "text", nullable: false),
                    InternetMessageId = table.Column<string>(type: "character varying(998)", maxLength: 998, nullable: true),
                    InReplyTo = table.Column<string>(type: "character varying(998)", maxLength: 998, nullable: true),
                    References = table.Column<string>(type: "text", nullable: true),
                    Automatic = table.Column<bool>(type: "boolean", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OutboundMessages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_OutboundMessages_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_OutboundMessages_WorkItems_WorkItemId",
                        column: x => x.WorkItemId,
                        principalTable: "WorkItems",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkItemMessages_TenantId_ExternalId",
                table: "WorkItemMessages",
                columns: new[] { "TenantId", "ExternalId" },
                unique: true,
                filter: "\"ExternalId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItemMessages_TenantId_InternetMessageId",
                table: "WorkItemMessages",
                columns: new[] { "TenantId", "InternetMessageId" },
                filter: "\"InternetMessageId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_InboundMails_TenantId_Source_DedupeKey",
                table: "InboundMails",
                columns: new[] { "TenantId", "Source", "DedupeKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundMails_TenantId_State_ReceivedAt",
                table: "InboundMails",
                columns: new[] { "TenantId", "State", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Mailboxes_TenantId_Key",
                table: "Mailboxes",
                columns: new[] { "TenantId", "Key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_Due",
                table: "OutboundMessages",
                column: "NextAttemptAt",
                filter: "\"State\" = 'Pending'");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_TenantId_WorkItemId_CreatedAt",
                table: "OutboundMessages",
                columns: new[] { "TenantId", "WorkItemId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_WorkItemId",
                table: "OutboundMessages",
                column: "WorkItemId");
            migrationBuilder.EnableRowLevelSecurity("ChannelSettings");
            migrationBuilder.EnableRowLevelSecurity("EmailSuppressions");
            migrationBuilder.EnableRowLevelSecurity("InboundMails");
            migrationBuilder.EnableRowLevelSecurity("Mailboxes");
            migrationBuilder.EnableRowLevelSecurity("OutboundMessages");

            // API conversations stored before messages carried their channel id keep their idempotency.
            migrationBuilder.Sql("""
                UPDATE "WorkItemMessages" m SET "ExternalId" = 'api:' || w."ExternalId"
                FROM "WorkItems" w
                WHERE m."WorkItemId" = w."Id" AND w."Channel" = 'api' AND w."ExternalId" IS NOT NULL AND m."Kind" = 'Inbound'
                  AND m."CreatedAt" = w."CreatedAt";
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChannelSettings");

            migrationBuilder.DropTable(
                name: "EmailSuppressions");

            migrationBuilder.DropTable(
                name: "InboundMails");

            migrationBuilder.DropTable(
                name: "Mailboxes");

            migrationBuilder.DropTable(
                name: "OutboundMessages");

            migrationBuilder.DropIndex(
                name: "IX_WorkItemMessages_TenantId_ExternalId",
                table: "WorkItemMessages");

            migrationBuilder.DropIndex(
                name: "IX_WorkItemMessages_TenantId_InternetMessageId",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "ExternalId",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "FromAddress",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "HtmlBody",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "InternetMessageId",
                table: "WorkItemMessages");

            migrationBuilder.DropColumn(
                name: "WorkItemMessageId",
                table: "WorkItemAttachments");
        }
    }
}
