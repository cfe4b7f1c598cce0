using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <summary>
    /// Audit details compressed with LZ4 instead of PostgreSQL's default pglz. A grouped record's detail (a gateway commit's
    /// calls, several KB) is compressed as it is inserted, and pglz was a quarter of the writing backend's CPU under a
    /// busy gateway (bench/gateway/README.md). Only new values are compressed this way; stored ones stay as they are.
    /// A server built without LZ4 keeps pglz.
    /// </summary>
    public partial class AuditDetailLz4 : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                    ALTER TABLE audit_records ALTER COLUMN "Detail" SET COMPRESSION lz4;
                EXCEPTION WHEN feature_not_supported THEN
                    RAISE NOTICE 'LZ4 not available on this server: audit details stay compressed with pglz';
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE audit_records ALTER COLUMN "Detail" SET COMPRESSION default""");
        }
    }
}
