using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class Catalog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "catalog_resources",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Slug = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RevisionOf = table.Column<Guid>(type: "uuid", nullable: true),
                    ClassCode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SubjectCode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CatalogCode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    DetailCode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProviderCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Summary = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    FormatCategory = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    FormatType = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ShareType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ShareCondition = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ShareMethodClass = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    ShareMethodType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    NotSharedBasis = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    OpenType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    OpenCondition = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    UpdateCycle = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    PublishDate = table.Column<DateOnly>(type: "date", nullable: true),
                    RelatedCodes = table.Column<List<string>>(type: "text[]", nullable: false),
                    Tags = table.Column<List<string>>(type: "text[]", nullable: false),
                    Keywords = table.Column<List<string>>(type: "text[]", nullable: false),
                    Contact = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Library = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ClassificationLevel = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    Grade = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    OpenEligible = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_resources", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_resources_catalog_resources_RevisionOf",
                        column: x => x.RevisionOf,
                        principalTable: "catalog_resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_catalog_resources_departments_DepartmentId",
                        column: x => x.DepartmentId,
                        principalTable: "departments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "catalog_data_items",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Ordinal = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ColumnName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DataType = table.Column<string>(type: "character varying(4)", maxLength: 4, nullable: false),
                    Length = table.Column<int>(type: "integer", nullable: true),
                    Required = table.Column<bool>(type: "boolean", nullable: false),
                    IsKey = table.Column<bool>(type: "boolean", nullable: false),
                    CodeTable = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Sensitivity = table.Column<string>(type: "character varying(4)", maxLength: 4, nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MaskingRule = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MaskKeepFirst = table.Column<int>(type: "integer", nullable: true),
                    MaskKeepLast = table.Column<int>(type: "integer", nullable: true),
                    Description = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_data_items", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_data_items_catalog_resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "catalog_resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_review_comments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Text = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    ActorName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_review_comments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_review_comments_catalog_resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "catalog_resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_search_tokens",
                columns: table => new
                {
                    Token = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_search_tokens", x => new { x.Token, x.ResourceId });
                    table.ForeignKey(
                        name: "FK_catalog_search_tokens_catalog_resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "catalog_resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_versions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    SnapshotJson = table.Column<string>(type: "text", nullable: false),
                    DiffJson = table.Column<string>(type: "text", nullable: false),
                    PublishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    PublishedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_versions_catalog_resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "catalog_resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_data_items_ResourceId_Ordinal",
                table: "catalog_data_items",
                columns: new[] { "ResourceId", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_Code",
                table: "catalog_resources",
                column: "Code",
                unique: true,
                filter: "\"RevisionOf\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_DepartmentId",
                table: "catalog_resources",
                column: "DepartmentId");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_RevisionOf",
                table: "catalog_resources",
                column: "RevisionOf");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_Slug",
                table: "catalog_resources",
                column: "Slug",
                unique: true,
                filter: "\"RevisionOf\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_Status_DepartmentId",
                table: "catalog_resources",
                columns: new[] { "Status", "DepartmentId" });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_resources_Status_UpdatedAt",
                table: "catalog_resources",
                columns: new[] { "Status", "UpdatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_review_comments_ResourceId",
                table: "catalog_review_comments",
                column: "ResourceId");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_search_tokens_ResourceId",
                table: "catalog_search_tokens",
                column: "ResourceId");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_versions_ResourceId_Version",
                table: "catalog_versions",
                columns: new[] { "ResourceId", "Version" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "catalog_data_items");

            migrationBuilder.DropTable(
                name: "catalog_review_comments");

            migrationBuilder.DropTable(
                name: "catalog_search_tokens");

            migrationBuilder.DropTable(
                name: "catalog_versions");

            migrationBuilder.DropTable(
                name: "catalog_resources");
        }
    }
}
