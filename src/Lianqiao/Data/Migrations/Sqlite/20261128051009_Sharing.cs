using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Sqlite
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    PrincipalKind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    PrincipalId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ConsumerDepartmentId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ResourceId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ProviderDepartmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Fields = table.Column<string>(type: "TEXT", nullable: false),
                    RowFilter = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    VerificationOnly = table.Column<bool>(type: "INTEGER", nullable: false),
                    UnmaskedFields = table.Column<string>(type: "TEXT", nullable: false),
                    Download = table.Column<bool>(type: "INTEGER", nullable: false),
                    Methods = table.Column<string>(type: "TEXT", nullable: false),
                    Paths = table.Column<string>(type: "TEXT", nullable: false),
                    QuotaPerDay = table.Column<long>(type: "INTEGER", nullable: true),
                    GrantedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RevokedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RevokedReason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    GrantedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ShareRequestId = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_grants", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "quota_usage",
                columns: table => new
                {
                    GrantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Used = table.Column<long>(type: "INTEGER", nullable: false)
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
