using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Reference;

/// <summary>
/// A dictionary (代码表): one mechanism for every enumerated value whose codes a standard leaves
/// open or that cities change (share types, update cycles, regions, gender, masking rules…).
/// Entries are versioned: a change bumps the table's version and retires rather than deletes.
/// </summary>
public sealed class CodeTable
{
    public required string Code { get; set; }
    public required string Name { get; set; }
    public string NameEn { get; set; } = "";
    /// <summary>Where the codes come from (a standard), or "UNCONFIRMED" when no primary text was checked.</summary>
    public string Source { get; set; } = "";
    public int Version { get; set; } = 1;
    public List<CodeEntry> Entries { get; set; } = [];
}

public sealed class CodeEntry
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string TableCode { get; set; }
    public required string Code { get; set; }
    public required string Label { get; set; }
    public string LabelEn { get; set; } = "";
    public int SortOrder { get; set; }
    public int AddedInVersion { get; set; } = 1;
    public int? RetiredInVersion { get; set; }

    public bool IsCurrent => RetiredInVersion is null;
}

public sealed record CodeTableDto(string Code, string Name, string NameEn, string Source, int Version, IReadOnlyList<CodeEntryDto> Entries);
public sealed record CodeEntryDto(string Code, string Label, string LabelEn, int SortOrder, int AddedInVersion, int? RetiredInVersion);

internal static class CodeTableMapping
{
    public static CodeTableDto AsDto(this CodeTable t, bool includeRetired) => new(t.Code, t.Name, t.NameEn, t.Source, t.Version,
        t.Entries.Where(e => includeRetired || e.IsCurrent).OrderBy(e => e.SortOrder).ThenBy(e => e.Code)
            .Select(e => new CodeEntryDto(e.Code, e.Label, e.LabelEn, e.SortOrder, e.AddedInVersion, e.RetiredInVersion)).ToList());
}

internal sealed class CodeTableConfiguration : IEntityTypeConfiguration<CodeTable>, IEntityTypeConfiguration<CodeEntry>
{
    public void Configure(EntityTypeBuilder<CodeTable> b)
    {
        b.ToTable("code_tables");
        b.HasKey(t => t.Code);
        b.Property(t => t.Code).HasMaxLength(64);
        b.Property(t => t.Name).HasMaxLength(200);
        b.Property(t => t.NameEn).HasMaxLength(200);
        b.Property(t => t.Source).HasMaxLength(500);
        b.HasMany(t => t.Entries).WithOne().HasForeignKey(e => e.TableCode);
    }

    public void Configure(EntityTypeBuilder<CodeEntry> b)
    {
        b.ToTable("code_entries");
        b.Property(e => e.TableCode).HasMaxLength(64);
        b.Property(e => e.Code).HasMaxLength(64);
        b.Property(e => e.Label).HasMaxLength(200);
        b.Property(e => e.LabelEn).HasMaxLength(200);
        b.HasIndex(e => new { e.TableCode, e.Code }).IsUnique();
        b.Ignore(e => e.IsCurrent);
    }
}
