using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class DatasetFilesAndLoadProgress : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "Progress",
                table: "dataset_loads",
                type: "double precision",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "dataset_file_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    FileName = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: false),
                    MediaType = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Bytes = table.Column<long>(type: "bigint", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UploadedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UploadedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UploadedByName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_file_versions", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_file_versions_ResourceId_Version",
                table: "dataset_file_versions",
                columns: new[] { "ResourceId", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_dataset_file_versions_Sha256",
                table: "dataset_file_versions",
                column: "Sha256");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dataset_file_versions");

            migrationBuilder.DropColumn(
                name: "Progress",
                table: "dataset_loads");
        }
    }
}
