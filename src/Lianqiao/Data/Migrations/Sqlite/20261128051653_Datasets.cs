using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Sqlite
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
                    Name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Value = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_counters", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "dataset_loads",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TableName = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Mode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    FileName = table.Column<string>(type: "TEXT", maxLength: 260, nullable: true),
                    FileBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    HeartbeatAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Node = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    StartedBy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    StartedByName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RowsRead = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsAccepted = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsQuarantined = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsWarned = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsInserted = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsUpdated = table.Column<long>(type: "INTEGER", nullable: false),
                    RowsDeleted = table.Column<long>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    Report = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_loads", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dataset_quarantine",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LoadId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Line = table.Column<long>(type: "INTEGER", nullable: false),
                    Rule = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Column = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Severity = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Kept = table.Column<bool>(type: "INTEGER", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: false),
                    Issues = table.Column<string>(type: "TEXT", nullable: false),
                    Raw = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_quarantine", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dataset_schemas",
                columns: table => new
                {
                    ResourceId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UpdateCycle = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Definition = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_schemas", x => x.ResourceId);
                });

            migrationBuilder.CreateTable(
                name: "dataset_tables",
                columns: table => new
                {
                    ResourceId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TableName = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    TableVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    Columns = table.Column<string>(type: "TEXT", nullable: false),
                    KeyColumns = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    RetiredTables = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    RunningLoadId = table.Column<Guid>(type: "TEXT", nullable: true),
                    LastSuccessAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LiveRows = table.Column<long>(type: "INTEGER", nullable: false),
                    OverdueDays = table.Column<int>(type: "INTEGER", nullable: false),
                    OverdueCheckedAt = table.Column<long>(type: "INTEGER", nullable: true)
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
