using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Datasets;

/// <summary>
/// A schema registered through <c>PUT /api/v1/datasets/{id}/schema</c>: the stand-in for the catalog's
/// data items until the catalog feeds <see cref="ITableSchemaSource"/> (docs/architecture.md, Datasets).
/// </summary>
public sealed class DatasetSchemaRecord
{
    public required string ResourceId { get; set; }
    public required string Name { get; set; }
    public Guid DepartmentId { get; set; }
    public string? UpdateCycle { get; set; }
    /// <summary>Columns and rules as JSON (<see cref="TableSchema"/> without its identity fields).</summary>
    public required string Definition { get; set; }
    public int Version { get; set; } = 1;
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>The physical table a resource's rows live in, and the per-resource load lock.</summary>
public sealed class DatasetTable
{
    public required string ResourceId { get; set; }
    public Guid DepartmentId { get; set; }
    public required string TableName { get; set; }
    public int TableVersion { get; set; } = 1;
    /// <summary>Physical columns as JSON [{column, type}]; dropped schema columns stay here (data is never dropped).</summary>
    public required string Columns { get; set; }
    /// <summary>Key columns as JSON array.</summary>
    public required string KeyColumns { get; set; }
    /// <summary>Earlier table versions kept after an incompatible schema change, comma separated.</summary>
    public string RetiredTables { get; set; } = "";
    /// <summary>The load holding the resource; one load at a time writes a resource.</summary>
    public Guid? RunningLoadId { get; set; }
    public DateTimeOffset? LastSuccessAt { get; set; }
    public long LiveRows { get; set; }
    /// <summary>Set by the timeliness job: working or calendar days past the update cycle, 0 when on time.</summary>
    public int OverdueDays { get; set; }
    public DateTimeOffset? OverdueCheckedAt { get; set; }
}

public static class LoadStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

public sealed class DatasetLoad
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string ResourceId { get; set; }
    public Guid DepartmentId { get; set; }
    public required string TableName { get; set; }
    public required string Mode { get; set; }
    public required string Format { get; set; }
    public string? FileName { get; set; }
    public long FileBytes { get; set; }
    public string Status { get; set; } = LoadStatus.Running;
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }
    /// <summary>machine:pid:instance of the process running it, so a restart can tell its own dead loads.</summary>
    public required string Node { get; set; }
    public string StartedBy { get; set; } = "";
    public string StartedByName { get; set; } = "";
    public long RowsRead { get; set; }
    /// <summary>Share of the file read so far (0–1) while running; written at most once a second by <see cref="LoadProgressWriter"/>.</summary>
    public double? Progress { get; set; }
    public long RowsAccepted { get; set; }
    public long RowsQuarantined { get; set; }
    public long RowsWarned { get; set; }
    public long RowsInserted { get; set; }
    public long RowsUpdated { get; set; }
    public long RowsDeleted { get; set; }
    public string? Error { get; set; }
    /// <summary>QualityReport as JSON.</summary>
    public string? Report { get; set; }
}

/// <summary>Per-database counters: "seq" numbers every row change across all dataset tables.</summary>
public sealed class DatasetCounter
{
    public required string Name { get; set; }
    public long Value { get; set; }
}

internal sealed class DatasetEntityConfiguration :
    IEntityTypeConfiguration<DatasetSchemaRecord>, IEntityTypeConfiguration<DatasetTable>,
    IEntityTypeConfiguration<DatasetLoad>, IEntityTypeConfiguration<DatasetCounter>
{
    public void Configure(EntityTypeBuilder<DatasetSchemaRecord> b)
    {
        b.ToTable("dataset_schemas");
        b.HasKey(s => s.ResourceId);
        b.Property(s => s.ResourceId).HasMaxLength(64);
        b.Property(s => s.Name).HasMaxLength(200);
        b.Property(s => s.UpdateCycle).HasMaxLength(16);
    }

    public void Configure(EntityTypeBuilder<DatasetTable> b)
    {
        b.ToTable("dataset_tables");
        b.HasKey(t => t.ResourceId);
        b.Property(t => t.ResourceId).HasMaxLength(64);
        b.Property(t => t.TableName).HasMaxLength(63);
        b.HasIndex(t => t.TableName).IsUnique();
        b.Property(t => t.KeyColumns).HasMaxLength(4000);
        b.Property(t => t.RetiredTables).HasMaxLength(4000);
    }

    public void Configure(EntityTypeBuilder<DatasetLoad> b)
    {
        b.ToTable("dataset_loads");
        b.HasKey(l => l.Id);
        b.Property(l => l.ResourceId).HasMaxLength(64);
        b.Property(l => l.TableName).HasMaxLength(63);
        b.Property(l => l.Mode).HasMaxLength(16);
        b.Property(l => l.Format).HasMaxLength(16);
        b.Property(l => l.FileName).HasMaxLength(260);
        b.Property(l => l.Status).HasMaxLength(16);
        b.Property(l => l.Node).HasMaxLength(200);
        b.Property(l => l.StartedBy).HasMaxLength(64);
        b.Property(l => l.StartedByName).HasMaxLength(256);
        b.Property(l => l.Error).HasMaxLength(4000);
        b.HasIndex(l => new { l.ResourceId, l.StartedAt });
        b.HasIndex(l => l.Status);
    }

    public void Configure(EntityTypeBuilder<DatasetCounter> b)
    {
        b.ToTable("dataset_counters");
        b.HasKey(c => c.Name);
        b.Property(c => c.Name).HasMaxLength(32);
        b.HasData(new DatasetCounter { Name = "seq", Value = 0 });
    }
}
