using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProDesk.Migrations.Postgres.Migrations
{
    /// <summary>
    /// Message bodies over about 2 KB are compressed as they are stored (TOAST). PostgreSQL's default, pglz,
    /// cost more CPU per inbound mail than the rest of the message's insert; lz4 compresses several times
    /// faster. Only new values use it; a server built without lz4 keeps pglz (ARCHITECTURE.md decision 36).
    /// </summary>
    public partial class MessageBodiesCompressedWithLz4 : Migration
    {
        private static string SetCompression(string method) => $"""
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND '{method}' = ANY (enumvals)) THEN
                    ALTER TABLE "WorkItemMessages" ALTER COLUMN "Body" SET COMPRESSION {method}, ALTER COLUMN "HtmlBody" SET COMPRESSION {method};
                    ALTER TABLE "OutboundMessages" ALTER COLUMN "Body" SET COMPRESSION {method};
                END IF;
            END $$;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(SetCompression("lz4"));

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(SetCompression("pglz"));
    }
}
