using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class Datasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "dataset_counters",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Value = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_counters", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "dataset_loads",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    TableName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Mode = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Format = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    FileName = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: true),
                    FileBytes = table.Column<long>(type: "bigint", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    HeartbeatAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Node = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    StartedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    StartedByName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RowsRead = table.Column<long>(type: "bigint", nullable: false),
                    RowsAccepted = table.Column<long>(type: "bigint", nullable: false),
                    RowsQuarantined = table.Column<long>(type: "bigint", nullable: false),
                    RowsWarned = table.Column<long>(type: "bigint", nullable: false),
                    RowsInserted = table.Column<long>(type: "bigint", nullable: false),
                    RowsUpdated = table.Column<long>(type: "bigint", nullable: false),
                    RowsDeleted = table.Column<long>(type: "bigint", nullable: false),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Report = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_loads", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dataset_quarantine",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LoadId = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    Line = table.Column<long>(type: "bigint", nullable: false),
                    Rule = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Column = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Kept = table.Column<bool>(type: "boolean", nullable: false),
                    Reason = table.Column<string>(type: "text", nullable: false),
                    Issues = table.Column<string>(type: "text", nullable: false),
                    Raw = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_quarantine", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dataset_schemas",
                columns: table => new
                {
                    ResourceId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    UpdateCycle = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    Definition = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_schemas", x => x.ResourceId);
                });

            migrationBuilder.CreateTable(
                name: "dataset_tables",
                columns: table => new
                {
                    ResourceId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    TableName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    TableVersion = table.Column<int>(type: "integer", nullable: false),
                    Columns = table.Column<string>(type: "text", nullable: false),
                    KeyColumns = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    RetiredTables = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    RunningLoadId = table.Column<Guid>(type: "uuid", nullable: true),
                    LastSuccessAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LiveRows = table.Column<long>(type: "bigint", nullable: false),
                    OverdueDays = table.Column<int>(type: "integer", nullable: false),
                    OverdueCheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_tables", x => x.ResourceId);
                });

            migrationBuilder.InsertData(
                table: "dataset_counters",
                columns: new[] { "Name", "Value" },
                values: new object[] { "seq", 0L });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_loads_ResourceId_StartedAt",
                table: "dataset_loads",
                columns: new[] { "ResourceId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_loads_Status",
                table: "dataset_loads",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_dataset_quarantine_CreatedAt",
                table: "dataset_quarantine",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_dataset_quarantine_LoadId_Line",
                table: "dataset_quarantine",
                columns: new[] { "LoadId", "Line" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_quarantine_ResourceId_CreatedAt",
                table: "dataset_quarantine",
                columns: new[] { "ResourceId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_tables_TableName",
                table: "dataset_tables",
                column: "TableName",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dataset_counters");

            migrationBuilder.DropTable(
                name: "dataset_loads");

            migrationBuilder.DropTable(
                name: "dataset_quarantine");

            migrationBuilder.DropTable(
                name: "dataset_schemas");

            migrationBuilder.DropTable(
                name: "dataset_tables");
        }
    }
}
