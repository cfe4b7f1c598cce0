using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lianqiao.Data.Migrations.Pg
{
    /// <inheritdoc />
    public partial class ExchangeConnectors : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "exchange_connections",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    Host = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    Port = table.Column<int>(type: "integer", nullable: true),
                    Database = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    UserName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ProtectedSecret = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Path = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Url = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    LastTestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastTestOk = table.Column<bool>(type: "boolean", nullable: true),
                    LastTestMessage = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exchange_connections", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "exchange_jobs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false),
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    SourceTable = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    SourceQuery = table.Column<string>(type: "character varying(8000)", maxLength: 8000, nullable: true),
                    Mapping = table.Column<string>(type: "character varying(100000)", maxLength: 100000, nullable: false),
                    Mode = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ChangeColumn = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    ChangeKind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    OverlapSeconds = table.Column<int>(type: "integer", nullable: false),
                    Checkpoint = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    AppId = table.Column<Guid>(type: "uuid", nullable: true),
                    TargetTable = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    BatchSize = table.Column<int>(type: "integer", nullable: false),
                    IntervalSeconds = table.Column<int>(type: "integer", nullable: true),
                    Cron = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    NextRunAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LeaseHolder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    LeaseUntil = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastRunAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastSuccessAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastStatus = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    LastError = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Failures = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exchange_jobs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_exchange_jobs_exchange_connections_ConnectionId",
                        column: x => x.ConnectionId,
                        principalTable: "exchange_connections",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "exchange_receipts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: true),
                    GrantId = table.Column<Guid>(type: "uuid", nullable: false),
                    FromSeq = table.Column<long>(type: "bigint", nullable: false),
                    ToSeq = table.Column<long>(type: "bigint", nullable: false),
                    Upserts = table.Column<int>(type: "integer", nullable: false),
                    Deletes = table.Column<int>(type: "integer", nullable: false),
                    Digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CommittedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Recovered = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exchange_receipts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_exchange_receipts_exchange_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "exchange_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "exchange_runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Trigger = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Node = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RowsRead = table.Column<long>(type: "bigint", nullable: false),
                    RowsAccepted = table.Column<long>(type: "bigint", nullable: false),
                    RowsQuarantined = table.Column<long>(type: "bigint", nullable: false),
                    RowsDeleted = table.Column<long>(type: "bigint", nullable: false),
                    RowsDelivered = table.Column<long>(type: "bigint", nullable: false),
                    Batches = table.Column<int>(type: "integer", nullable: false),
                    LoadId = table.Column<Guid>(type: "uuid", nullable: true),
                    ScheduleLagSeconds = table.Column<double>(type: "double precision", nullable: true),
                    DurationMs = table.Column<long>(type: "bigint", nullable: true),
                    CheckpointBefore = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    CheckpointAfter = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exchange_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_exchange_runs_exchange_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "exchange_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_exchange_connections_DepartmentId_Name",
                table: "exchange_connections",
                columns: new[] { "DepartmentId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_exchange_jobs_ConnectionId",
                table: "exchange_jobs",
                column: "ConnectionId");

            migrationBuilder.CreateIndex(
                name: "IX_exchange_jobs_NextRunAt",
                table: "exchange_jobs",
                column: "NextRunAt");

            migrationBuilder.CreateIndex(
                name: "IX_exchange_receipts_JobId_ToSeq",
                table: "exchange_receipts",
                columns: new[] { "JobId", "ToSeq" });

            migrationBuilder.CreateIndex(
                name: "IX_exchange_runs_JobId_StartedAt",
                table: "exchange_runs",
                columns: new[] { "JobId", "StartedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "exchange_receipts");

            migrationBuilder.DropTable(
                name: "exchange_runs");

            migrationBuilder.DropTable(
                name: "exchange_jobs");

            migrationBuilder.DropTable(
                name: "exchange_connections");
        }
    }
}
