using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Quality;

/// <summary>
/// A row a load did not accept (severity error) or accepted with a flag (warning). Holds the raw row:
/// personal data, so it is masked for everyone but the owning steward and purged after the retention.
/// </summary>
public sealed class QuarantineRow
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LoadId { get; set; }
    public required string ResourceId { get; set; }
    public Guid DepartmentId { get; set; }
    /// <summary>Row number as a person counts it in the file: the header is 1, the first data row 2.</summary>
    public long Line { get; set; }
    /// <summary>The first failed rule; <see cref="Issues"/> has them all.</summary>
    public required string Rule { get; set; }
    public string? Column { get; set; }
    public required string Severity { get; set; }
    /// <summary>True for warnings: the row is stored and only flagged here.</summary>
    public bool Kept { get; set; }
    public required string Reason { get; set; }
    /// <summary>[{rule, column, severity, zh, en}] as JSON.</summary>
    public required string Issues { get; set; }
    /// <summary>The row as read, {header: value} as JSON.</summary>
    public required string Raw { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class QuarantineRowConfiguration : IEntityTypeConfiguration<QuarantineRow>
{
    public void Configure(EntityTypeBuilder<QuarantineRow> b)
    {
        b.ToTable("dataset_quarantine");
        b.HasKey(q => q.Id);
        b.Property(q => q.ResourceId).HasMaxLength(64);
        b.Property(q => q.Rule).HasMaxLength(32);
        b.Property(q => q.Column).HasMaxLength(64);
        b.Property(q => q.Severity).HasMaxLength(16);
        b.HasIndex(q => new { q.LoadId, q.Line });
        b.HasIndex(q => new { q.ResourceId, q.CreatedAt });
        b.HasIndex(q => q.CreatedAt);
    }
}
