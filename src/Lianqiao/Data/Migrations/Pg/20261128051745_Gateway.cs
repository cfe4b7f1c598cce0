using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class Gateway : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "gateway_allow_list",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Pattern = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Note = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gateway_allow_list", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "gateway_service_versions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    ChangedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Snapshot = table.Column<string>(type: "text", nullable: false),
                    SecretChanged = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gateway_service_versions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "gateway_services",
                columns: table => new
                {
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Level = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Upstreams = table.Column<List<string>>(type: "text[]", nullable: false),
                    LoadBalancing = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Methods = table.Column<List<string>>(type: "text[]", nullable: false),
                    PathPrefixes = table.Column<List<string>>(type: "text[]", nullable: false),
                    AuthKind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    AuthName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ProtectedSecret = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    ProtectedPseudonymKey = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    TimeoutMs = table.Column<int>(type: "integer", nullable: false),
                    MaxRequestBytes = table.Column<long>(type: "bigint", nullable: false),
                    MaxResponseBytes = table.Column<long>(type: "bigint", nullable: false),
                    HealthPath = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    HealthIntervalSeconds = table.Column<int>(type: "integer", nullable: false),
                    BreakerFailures = table.Column<int>(type: "integer", nullable: false),
                    BreakerOpenSeconds = table.Column<int>(type: "integer", nullable: false),
                    RateLimitPerSecond = table.Column<int>(type: "integer", nullable: true),
                    MaskingJson = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gateway_services", x => x.ResourceId);
                });

            migrationBuilder.CreateTable(
                name: "gateway_stats",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    PeriodStart = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Node = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Calls = table.Column<long>(type: "bigint", nullable: false),
                    Errors = table.Column<long>(type: "bigint", nullable: false),
                    Unavailable = table.Column<long>(type: "bigint", nullable: false),
                    BytesIn = table.Column<long>(type: "bigint", nullable: false),
                    BytesOut = table.Column<long>(type: "bigint", nullable: false),
                    Histogram = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gateway_stats", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_gateway_allow_list_Pattern",
                table: "gateway_allow_list",
                column: "Pattern",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_gateway_service_versions_ResourceId_Version",
                table: "gateway_service_versions",
                columns: new[] { "ResourceId", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_gateway_services_DepartmentId",
                table: "gateway_services",
                column: "DepartmentId");

            migrationBuilder.CreateIndex(
                name: "IX_gateway_stats_ResourceId_PeriodStart",
                table: "gateway_stats",
                columns: new[] { "ResourceId", "PeriodStart" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "gateway_allow_list");

            migrationBuilder.DropTable(
                name: "gateway_service_versions");

            migrationBuilder.DropTable(
                name: "gateway_services");

            migrationBuilder.DropTable(
                name: "gateway_stats");
        }
    }
}
