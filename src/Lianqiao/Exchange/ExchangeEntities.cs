using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Exchange;

/// <summary>The kinds of systems the exchange reaches: databases through their .NET drivers, HTTP JSON APIs and drop folders.</summary>
public static class ConnectionKinds
{
    public const string Postgres = "postgres";
    public const string MySql = "mysql";
    public const string SqlServer = "sqlserver";
    public const string Sqlite = "sqlite";
    public const string HttpJson = "http-json";
    public const string DropFolder = "drop-folder";
    public static readonly string[] All = [Postgres, MySql, SqlServer, Sqlite, HttpJson, DropFolder];
    public static readonly string[] Networked = [Postgres, MySql, SqlServer];
    public static readonly string[] Databases = [Postgres, MySql, SqlServer, Sqlite];
}

/// <summary>
/// A department's source or target system. The secret (password or token) is stored only as Data Protection
/// ciphertext and is never returned: the DTO says whether one is set, nothing more.
/// </summary>
public sealed class ExchangeConnection
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public Guid DepartmentId { get; set; }
    public string? Host { get; set; }
    public int? Port { get; set; }
    public string? Database { get; set; }
    public string? UserName { get; set; }
    public string? ProtectedSecret { get; set; }
    /// <summary>SQLite file or drop folder, under one of the configured exchange roots.</summary>
    public string? Path { get; set; }
    /// <summary>HTTP JSON API address.</summary>
    public string? Url { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? LastTestedAt { get; set; }
    public bool? LastTestOk { get; set; }
    public string? LastTestMessage { get; set; }

    public ConnectionDto AsDto() => new(Id, Name, Kind, DepartmentId, Host, Port, Database, UserName, ProtectedSecret is not null, Path, Url,
        CreatedAt, CreatedBy, LastTestedAt, LastTestOk, LastTestMessage);
}

public sealed record ConnectionDto(Guid Id, string Name, string Kind, Guid DepartmentId, string? Host, int? Port, string? Database, string? UserName,
    bool HasSecret, string? Path, string? Url, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? LastTestedAt, bool? LastTestOk, string? LastTestMessage);

/// <summary>What a client sends to create or change a connection. A null secret on update keeps the stored one.</summary>
public sealed record ConnectionInput(string? Name, string? Kind, Guid? DepartmentId, string? Host, int? Port, string? Database, string? UserName,
    string? Secret, string? Path, string? Url);

public sealed record ConnectionTestDto(bool Ok, string Message, long ElapsedMs);

public static class JobKinds
{
    /// <summary>汇聚: a source table or query into a catalog resource.</summary>
    public const string Collect = "collect";
    /// <summary>分发: a resource, under an application's grant, into the consumer's table.</summary>
    public const string Deliver = "deliver";
}

public static class CollectModes
{
    /// <summary>Rows changed since the checkpoint (by a timestamp or an increasing id), upserted by key.</summary>
    public const string Incremental = "incremental";
    /// <summary>Every source row; stored rows the source no longer has become tombstones.</summary>
    public const string Snapshot = "snapshot";
}

public static class ChangeKinds
{
    public const string Timestamp = "timestamp";
    public const string Id = "id";
}

/// <summary>Source column → resource column.</summary>
public sealed record ColumnMap(string Source, string Column);

/// <summary>One exchange job: a collection or a delivery, with its schedule, checkpoint and lease.</summary>
public sealed class ExchangeJob
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public required string Kind { get; set; }
    /// <summary>Who manages the job: the resource's provider (collect) or the application's department (deliver).</summary>
    public Guid DepartmentId { get; set; }
    public Guid ConnectionId { get; set; }
    public required string ResourceId { get; set; }

    public string? SourceTable { get; set; }
    public string? SourceQuery { get; set; }
    public string Mapping { get; set; } = "[]";
    public string Mode { get; set; } = CollectModes.Snapshot;
    public string? ChangeColumn { get; set; }
    public string? ChangeKind { get; set; }
    /// <summary>Timestamp pulls re-read this far behind the checkpoint: late commits and clock skew between systems.</summary>
    public int OverlapSeconds { get; set; } = 300;
    /// <summary>Collection: the largest change value loaded (invariant text). Delivery keeps its checkpoint in the target database.</summary>
    public string? Checkpoint { get; set; }

    public Guid? AppId { get; set; }
    public string? TargetTable { get; set; }
    public int BatchSize { get; set; } = 5000;

    public int? IntervalSeconds { get; set; }
    public string? Cron { get; set; }
    public bool Enabled { get; set; } = true;
    public DateTimeOffset NextRunAt { get; set; }
    public string? LeaseHolder { get; set; }
    public DateTimeOffset LeaseUntil { get; set; }
    public DateTimeOffset? LastRunAt { get; set; }
    public DateTimeOffset? LastSuccessAt { get; set; }
    public string? LastStatus { get; set; }
    public string? LastError { get; set; }
    public int Failures { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public List<ColumnMap> Columns() => JsonSerializer.Deserialize<List<ColumnMap>>(Mapping, JsonSerializerOptions.Web) ?? [];

    public JobDto AsDto() => new(Id, Name, Kind, DepartmentId, ConnectionId, ResourceId, SourceTable, SourceQuery, Columns(), Mode, ChangeColumn, ChangeKind,
        OverlapSeconds, Checkpoint, AppId, TargetTable, BatchSize, IntervalSeconds, Cron, Enabled, NextRunAt, LeaseHolder, LastRunAt, LastSuccessAt,
        LastStatus, LastError, Failures, CreatedAt, CreatedBy);
}

public sealed record JobDto(Guid Id, string Name, string Kind, Guid DepartmentId, Guid ConnectionId, string ResourceId, string? SourceTable, string? SourceQuery,
    IReadOnlyList<ColumnMap> Mapping, string Mode, string? ChangeColumn, string? ChangeKind, int OverlapSeconds, string? Checkpoint, Guid? AppId,
    string? TargetTable, int BatchSize, int? IntervalSeconds, string? Cron, bool Enabled, DateTimeOffset NextRunAt, string? RunningOn,
    DateTimeOffset? LastRunAt, DateTimeOffset? LastSuccessAt, string? LastStatus, string? LastError, int Failures, DateTimeOffset CreatedAt, string CreatedBy);

public sealed record JobInput(string? Name, string? Kind, Guid? ConnectionId, string? ResourceId, string? SourceTable, string? SourceQuery,
    List<ColumnMap>? Mapping, string? Mode, string? ChangeColumn, string? ChangeKind, int? OverlapSeconds, Guid? AppId, string? TargetTable,
    int? BatchSize, int? IntervalSeconds, string? Cron, bool? Enabled);

public static class RunStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>Stopped on purpose: the grant was revoked or expired.</summary>
    public const string Stopped = "stopped";
    /// <summary>The process ended mid-run; the next run resumes from the checkpoint.</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>One run of a job: what it read, kept, quarantined and delivered, how long it took and how late it started.</summary>
public sealed class ExchangeRun
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid JobId { get; set; }
    public string Trigger { get; set; } = "schedule";
    public string Node { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string Status { get; set; } = RunStatus.Running;
    public long RowsRead { get; set; }
    public long RowsAccepted { get; set; }
    public long RowsQuarantined { get; set; }
    public long RowsDeleted { get; set; }
    public long RowsDelivered { get; set; }
    public int Batches { get; set; }
    public Guid? LoadId { get; set; }
    /// <summary>Seconds between when the schedule wanted the run and when it started.</summary>
    public double? ScheduleLagSeconds { get; set; }
    public long? DurationMs { get; set; }
    public string? CheckpointBefore { get; set; }
    public string? CheckpointAfter { get; set; }
    public string? Error { get; set; }

    public RunDto AsDto() => new(Id, JobId, Trigger, Node, StartedAt, FinishedAt, Status, RowsRead, RowsAccepted, RowsQuarantined, RowsDeleted,
        RowsDelivered, Batches, LoadId, ScheduleLagSeconds, DurationMs, CheckpointBefore, CheckpointAfter, Error);
}

public sealed record RunDto(Guid Id, Guid JobId, string Trigger, string Node, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Status,
    long RowsRead, long RowsAccepted, long RowsQuarantined, long RowsDeleted, long RowsDelivered, int Batches, Guid? LoadId, double? ScheduleLagSeconds,
    long? DurationMs, string? CheckpointBefore, string? CheckpointAfter, string? Error);

/// <summary>回执: one committed delivery batch, written after the target database committed rows and checkpoint together.</summary>
public sealed class DeliveryReceipt
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid JobId { get; set; }
    public Guid? RunId { get; set; }
    public Guid GrantId { get; set; }
    public long FromSeq { get; set; }
    public long ToSeq { get; set; }
    public int Upserts { get; set; }
    public int Deletes { get; set; }
    /// <summary>SHA-256 (first 16 hex) of the batch as written: the consumer can check what it received.</summary>
    public string Digest { get; set; } = "";
    public DateTimeOffset CommittedAt { get; set; }
    /// <summary>True when the batch was committed by a run that died before writing this receipt.</summary>
    public bool Recovered { get; set; }

    public ReceiptDto AsDto() => new(Id, JobId, RunId, GrantId, FromSeq, ToSeq, Upserts, Deletes, Digest, CommittedAt, Recovered);
}

public sealed record ReceiptDto(Guid Id, Guid JobId, Guid? RunId, Guid GrantId, long FromSeq, long ToSeq, int Upserts, int Deletes, string Digest,
    DateTimeOffset CommittedAt, bool Recovered);

public sealed record PreviewDto(IReadOnlyList<string> Columns, IReadOnlyList<PreviewRow> Rows);
public sealed record PreviewRow(IReadOnlyList<string?> Values, IReadOnlyList<string> Issues);

internal sealed class ExchangeConfiguration : IEntityTypeConfiguration<ExchangeConnection>, IEntityTypeConfiguration<ExchangeJob>,
    IEntityTypeConfiguration<ExchangeRun>, IEntityTypeConfiguration<DeliveryReceipt>
{
    public void Configure(EntityTypeBuilder<ExchangeConnection> b)
    {
        b.ToTable("exchange_connections");
        b.Property(c => c.Name).HasMaxLength(200);
        b.Property(c => c.Kind).HasMaxLength(20);
        b.Property(c => c.Host).HasMaxLength(300);
        b.Property(c => c.Database).HasMaxLength(200);
        b.Property(c => c.UserName).HasMaxLength(200);
        b.Property(c => c.ProtectedSecret).HasMaxLength(4000);
        b.Property(c => c.Path).HasMaxLength(1000);
        b.Property(c => c.Url).HasMaxLength(2000);
        b.Property(c => c.CreatedBy).HasMaxLength(200);
        b.Property(c => c.LastTestMessage).HasMaxLength(2000);
        b.HasIndex(c => new { c.DepartmentId, c.Name }).IsUnique();
    }

    public void Configure(EntityTypeBuilder<ExchangeJob> b)
    {
        b.ToTable("exchange_jobs");
        b.Property(j => j.Name).HasMaxLength(200);
        b.Property(j => j.Kind).HasMaxLength(20);
        b.Property(j => j.ResourceId).HasMaxLength(100);
        b.Property(j => j.SourceTable).HasMaxLength(200);
        b.Property(j => j.SourceQuery).HasMaxLength(8000);
        b.Property(j => j.Mapping).HasMaxLength(100_000);
        b.Property(j => j.Mode).HasMaxLength(20);
        b.Property(j => j.ChangeColumn).HasMaxLength(100);
        b.Property(j => j.ChangeKind).HasMaxLength(20);
        b.Property(j => j.Checkpoint).HasMaxLength(100);
        b.Property(j => j.TargetTable).HasMaxLength(100);
        b.Property(j => j.Cron).HasMaxLength(100);
        b.Property(j => j.LeaseHolder).HasMaxLength(200);
        b.Property(j => j.LastStatus).HasMaxLength(20);
        b.Property(j => j.LastError).HasMaxLength(4000);
        b.Property(j => j.CreatedBy).HasMaxLength(200);
        b.HasOne<ExchangeConnection>().WithMany().HasForeignKey(j => j.ConnectionId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(j => j.NextRunAt);
    }

    public void Configure(EntityTypeBuilder<ExchangeRun> b)
    {
        b.ToTable("exchange_runs");
        b.Property(r => r.Trigger).HasMaxLength(20);
        b.Property(r => r.Node).HasMaxLength(200);
        b.Property(r => r.Status).HasMaxLength(20);
        b.Property(r => r.CheckpointBefore).HasMaxLength(100);
        b.Property(r => r.CheckpointAfter).HasMaxLength(100);
        b.Property(r => r.Error).HasMaxLength(4000);
        b.HasOne<ExchangeJob>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(r => new { r.JobId, r.StartedAt });
    }

    public void Configure(EntityTypeBuilder<DeliveryReceipt> b)
    {
        b.ToTable("exchange_receipts");
        b.Property(r => r.Digest).HasMaxLength(64);
        b.HasOne<ExchangeJob>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(r => new { r.JobId, r.ToSeq });
    }
}
