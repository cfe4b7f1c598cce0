using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Datasets.Files;

/// <summary>
/// One version of a file resource's attachment. The bytes live on disk, content-addressed by
/// <see cref="Sha256"/> (<see cref="FileStore"/>); this row is what makes a version visible.
/// </summary>
public sealed class FileVersion
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>The catalog resource's slug.</summary>
    public required string ResourceId { get; set; }
    /// <summary>1, 2, 3… per resource, in upload order.</summary>
    public int Version { get; set; }
    public required string FileName { get; set; }
    public required string MediaType { get; set; }
    public long Bytes { get; set; }
    /// <summary>SHA-256 of the content, lower-case hex: also its name in the file store.</summary>
    public required string Sha256 { get; set; }
    public DateTimeOffset UploadedAt { get; set; }
    public string UploadedBy { get; set; } = "";
    public string UploadedByName { get; set; } = "";

    public FileVersionDto AsDto() => new(ResourceId, Version, FileName, MediaType, Bytes, Sha256, UploadedAt, UploadedByName);
}

public sealed record FileVersionDto(string ResourceId, int Version, string FileName, string MediaType, long Bytes, string Sha256,
    DateTimeOffset UploadedAt, string UploadedBy);

internal sealed class FileVersionConfiguration : IEntityTypeConfiguration<FileVersion>
{
    public void Configure(EntityTypeBuilder<FileVersion> b)
    {
        b.ToTable("dataset_file_versions");
        b.HasKey(v => v.Id);
        b.Property(v => v.ResourceId).HasMaxLength(100);
        b.Property(v => v.FileName).HasMaxLength(260);
        b.Property(v => v.MediaType).HasMaxLength(200);
        b.Property(v => v.Sha256).HasMaxLength(64);
        b.Property(v => v.UploadedBy).HasMaxLength(64);
        b.Property(v => v.UploadedByName).HasMaxLength(256);
        // Also what makes two concurrent uploads take different version numbers.
        b.HasIndex(v => new { v.ResourceId, v.Version }).IsUnique();
        b.HasIndex(v => v.Sha256);
    }
}
