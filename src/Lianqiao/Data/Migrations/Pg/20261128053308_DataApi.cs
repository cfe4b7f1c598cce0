using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class DataApi : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "QualityRules",
                table: "catalog_resources",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "exchange_counters",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    ProviderDepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    ConsumerDepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Calls = table.Column<long>(type: "bigint", nullable: false),
                    Rows = table.Column<long>(type: "bigint", nullable: false),
                    Bytes = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exchange_counters", x => new { x.Day, x.ProviderDepartmentId, x.ConsumerDepartmentId, x.ResourceId });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "exchange_counters");

            migrationBuilder.DropColumn(
                name: "QualityRules",
                table: "catalog_resources");
        }
    }
}
