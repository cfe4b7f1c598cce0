using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class AuditLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_ledger_head",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    LastSealNumber = table.Column<long>(type: "bigint", nullable: false),
                    LastRecordId = table.Column<long>(type: "bigint", nullable: false),
                    SealHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    KeyId = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_ledger_head", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "audit_seals",
                columns: table => new
                {
                    Number = table.Column<long>(type: "bigint", nullable: false),
                    FirstRecordId = table.Column<long>(type: "bigint", nullable: false),
                    LastRecordId = table.Column<long>(type: "bigint", nullable: false),
                    RecordCount = table.Column<int>(type: "integer", nullable: false),
                    PreviousHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RecordDigests = table.Column<byte[]>(type: "bytea", nullable: false),
                    KeyId = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SealedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_seals", x => x.Number);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_seals_LastRecordId",
                table: "audit_seals",
                column: "LastRecordId",
                unique: true);

            // Defence in depth (PostgreSQL only): the database itself refuses to rewrite the audit trail,
            // whatever the application does. A superuser can still bypass it (DISABLE TRIGGER,
            // session_replication_role), which is what the signed hash chain detects.
            migrationBuilder.Sql("""
                CREATE FUNCTION lianqiao_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '% on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
                        USING ERRCODE = 'insufficient_privilege';
                END
                $$;
                CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
                    FOR EACH ROW EXECUTE FUNCTION lianqiao_audit_append_only();
                CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
                    FOR EACH STATEMENT EXECUTE FUNCTION lianqiao_audit_append_only();
                CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
                    FOR EACH ROW EXECUTE FUNCTION lianqiao_audit_append_only();
                CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
                    FOR EACH STATEMENT EXECUTE FUNCTION lianqiao_audit_append_only();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER audit_records_append_only ON audit_records;
                DROP TRIGGER audit_records_no_truncate ON audit_records;
                DROP FUNCTION lianqiao_audit_append_only() CASCADE;
                """);

            migrationBuilder.DropTable(
                name: "audit_ledger_head");

            migrationBuilder.DropTable(
                name: "audit_seals");
        }
    }
}
