using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class Sharing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "grants",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    PrincipalKind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    PrincipalId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ConsumerDepartmentId = table.Column<Guid>(type: "uuid", nullable: true),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ProviderDepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Fields = table.Column<List<string>>(type: "text[]", nullable: false),
                    RowFilter = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    VerificationOnly = table.Column<bool>(type: "boolean", nullable: false),
                    UnmaskedFields = table.Column<List<string>>(type: "text[]", nullable: false),
                    Download = table.Column<bool>(type: "boolean", nullable: false),
                    Methods = table.Column<List<string>>(type: "text[]", nullable: false),
                    Paths = table.Column<List<string>>(type: "text[]", nullable: false),
                    QuotaPerDay = table.Column<long>(type: "bigint", nullable: true),
                    GrantedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RevokedReason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    GrantedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ShareRequestId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_grants", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "quota_usage",
                columns: table => new
                {
                    GrantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    Used = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_quota_usage", x => new { x.GrantId, x.Day });
                });

            migrationBuilder.CreateIndex(
                name: "IX_grants_PrincipalKind_PrincipalId_ResourceId",
                table: "grants",
                columns: new[] { "PrincipalKind", "PrincipalId", "ResourceId" });

            migrationBuilder.CreateIndex(
                name: "IX_grants_ResourceId",
                table: "grants",
                column: "ResourceId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "grants");

            migrationBuilder.DropTable(
                name: "quota_usage");
        }
    }
}
