using Lianqiao.Domain.Masking;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Catalog;

public enum ResourceStatus { Draft, Submitted, Published, Retired }

/// <summary>
/// One 政务信息资源 on the catalog standard. A pending new version of a published resource is a second
/// row with <see cref="RevisionOf"/> set; it shares the slug and code and never appears in search.
/// </summary>
public sealed class CatalogResource
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>The stable URL-safe id every module uses in URLs, CKAN's <c>name</c>.</summary>
    public required string Slug { get; set; }
    /// <summary>信息资源代码: classification code + "/" + 顺序码.</summary>
    public required string Code { get; set; }
    public Guid? RevisionOf { get; set; }

    public required string ClassCode { get; set; }
    public required string SubjectCode { get; set; }
    public required string CatalogCode { get; set; }
    public string DetailCode { get; set; } = "";

    public required string Name { get; set; }
    public Guid DepartmentId { get; set; }
    public required string ProviderCode { get; set; }
    public string Summary { get; set; } = "";
    public required string FormatCategory { get; set; }
    public string FormatType { get; set; } = "";

    public required string ShareType { get; set; }
    public string? ShareCondition { get; set; }
    public string? ShareMethodClass { get; set; }
    public string? ShareMethodType { get; set; }
    public string? NotSharedBasis { get; set; }
    public required string OpenType { get; set; }
    public string? OpenCondition { get; set; }
    public required string UpdateCycle { get; set; }
    public DateOnly? PublishDate { get; set; }
    public List<string> RelatedCodes { get; set; } = [];
    public List<string> Tags { get; set; } = [];
    public List<string> Keywords { get; set; } = [];
    public string? Contact { get; set; }
    public required string Library { get; set; }
    public required string ClassificationLevel { get; set; }

    public ResourceStatus Status { get; set; }
    /// <summary>Published version number; 0 until first published.</summary>
    public int Version { get; set; }

    /// <summary>Derived on every write: the highest item grade (就高从严).</summary>
    public string Grade { get; set; } = "L1";
    /// <summary>Derived: may this resource be opened at all (standards.md §6).</summary>
    public bool OpenEligible { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public List<DataItem> Items { get; set; } = [];

    /// <summary>Quality rules beyond those the items imply (JSON list of Datasets.RuleSpec), set through PUT …/quality-rules.</summary>
    public string QualityRules { get; set; } = "[]";

    public ResourceDto AsDto(string departmentName)
    {
        var open = CatalogRules.Eligibility(this);
        return new(Slug, Code, ClassCode, SubjectCode, CatalogCode, DetailCode, Name, DepartmentId, departmentName, ProviderCode, Summary,
            FormatCategory, FormatType, ShareType, ShareCondition, ShareMethodClass, ShareMethodType, NotSharedBasis, OpenType, OpenCondition,
            UpdateCycle, PublishDate, RelatedCodes, Tags, Keywords, Contact, Library, ClassificationLevel, Status, Version, RevisionOf is not null,
            Grade, open, CreatedAt, UpdatedAt,
            Items.OrderBy(i => i.Ordinal).Select(i => i.AsDto(open.Eligible && open.OpenColumns.Contains(i.ColumnName))).ToList());
    }

    public SearchHit AsHit(string departmentName) => new(Slug, Code, Name, departmentName, Summary, ShareType, OpenType, FormatCategory,
        UpdateCycle, Grade, Library, Status, Version, OpenEligible, PublishDate, UpdatedAt);
}

/// <summary>信息项.</summary>
public sealed class DataItem
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ResourceId { get; set; }
    public int Ordinal { get; set; }
    public required string Name { get; set; }
    public required string ColumnName { get; set; }
    public required string DataType { get; set; }
    public int? Length { get; set; }
    public bool Required { get; set; }
    public bool IsKey { get; set; }
    public string? CodeTable { get; set; }
    public string Sensitivity { get; set; } = "L1";
    public ItemKind Kind { get; set; }
    /// <summary>Code of the masking-rule code table; the sharing module turns it into a <see cref="MaskingRule"/>.</summary>
    public string MaskingRule { get; set; } = MaskingRules.None;
    public int? MaskKeepFirst { get; set; }
    public int? MaskKeepLast { get; set; }
    public string Description { get; set; } = "";

    public DataItemDto AsDto(bool open) => new(Name, ColumnName, DataType, Length, Required, IsKey, CodeTable, Sensitivity, Kind,
        MaskingRule, MaskKeepFirst, MaskKeepLast, Description, open);
}

/// <summary>A published version: the snapshot as it was and its field-by-field diff from the one before.</summary>
public sealed class ResourceVersion
{
    public long Id { get; set; }
    public Guid ResourceId { get; set; }
    public int Version { get; set; }
    public required string SnapshotJson { get; set; }
    public required string DiffJson { get; set; }
    public DateTimeOffset PublishedAt { get; set; }
    public string? PublishedBy { get; set; }
}

public sealed class ReviewComment
{
    public long Id { get; set; }
    /// <summary>The published (or first-draft) resource row, not the revision row.</summary>
    public Guid ResourceId { get; set; }
    /// <summary>submit, approve, reject, new-version, retire.</summary>
    public required string Action { get; set; }
    public string Text { get; set; } = "";
    public string? ActorName { get; set; }
    public DateTimeOffset At { get; set; }

    public ReviewCommentDto AsDto() => new(Action, Text, ActorName, At);
}

/// <summary>One CJK bigram / unigram / Latin word of a resource's searchable text; keyed token first for lookups.</summary>
public sealed class CatalogSearchToken
{
    public required string Token { get; set; }
    public Guid ResourceId { get; set; }
}

internal sealed class CatalogConfiguration :
    IEntityTypeConfiguration<CatalogResource>, IEntityTypeConfiguration<DataItem>, IEntityTypeConfiguration<ResourceVersion>,
    IEntityTypeConfiguration<ReviewComment>, IEntityTypeConfiguration<CatalogSearchToken>
{
    public void Configure(EntityTypeBuilder<CatalogResource> b)
    {
        b.ToTable("catalog_resources");
        b.Property(r => r.Id).ValueGeneratedNever();
        b.Property(r => r.Slug).HasMaxLength(64);
        b.Property(r => r.Code).HasMaxLength(64);
        // Filter text is the same on both providers: quoted identifiers are standard SQL.
        b.HasIndex(r => r.Slug).IsUnique().HasFilter("\"RevisionOf\" IS NULL");
        b.HasIndex(r => r.Code).IsUnique().HasFilter("\"RevisionOf\" IS NULL");
        b.HasIndex(r => r.RevisionOf);
        b.HasOne<CatalogResource>().WithMany().HasForeignKey(r => r.RevisionOf).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Department>().WithMany().HasForeignKey(r => r.DepartmentId).OnDelete(DeleteBehavior.Restrict);
        foreach (var p in new[] { "ClassCode", "SubjectCode", "CatalogCode", "DetailCode", "FormatCategory", "ShareType", "ShareMethodClass",
                     "ShareMethodType", "OpenType", "UpdateCycle", "Library", "ClassificationLevel", "Grade" })
            b.Property(p).HasMaxLength(32);
        b.Property(r => r.Name).HasMaxLength(200);
        b.Property(r => r.ProviderCode).HasMaxLength(64);
        b.Property(r => r.Summary).HasMaxLength(4000);
        b.Property(r => r.FormatType).HasMaxLength(100);
        b.Property(r => r.ShareCondition).HasMaxLength(1000);
        b.Property(r => r.NotSharedBasis).HasMaxLength(1000);
        b.Property(r => r.OpenCondition).HasMaxLength(1000);
        b.Property(r => r.Contact).HasMaxLength(200);
        b.Property(r => r.UpdatedBy).HasMaxLength(200);
        b.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        // Facets and filters read these columns together with the status.
        b.HasIndex(r => new { r.Status, r.DepartmentId });
        b.HasIndex(r => new { r.Status, r.UpdatedAt });
        b.HasMany(r => r.Items).WithOne().HasForeignKey(i => i.ResourceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<DataItem> b)
    {
        b.ToTable("catalog_data_items");
        // Ids are made in code; items reached through a tracked resource's collection are then inserted, not updated.
        b.Property(i => i.Id).ValueGeneratedNever();
        b.Property(i => i.Name).HasMaxLength(200);
        b.Property(i => i.ColumnName).HasMaxLength(64);
        b.Property(i => i.DataType).HasMaxLength(4);
        b.Property(i => i.CodeTable).HasMaxLength(64);
        b.Property(i => i.Sensitivity).HasMaxLength(4);
        b.Property(i => i.Kind).HasConversion<string>().HasMaxLength(32);
        b.Property(i => i.MaskingRule).HasMaxLength(32);
        b.Property(i => i.Description).HasMaxLength(1000);
        b.HasIndex(i => new { i.ResourceId, i.Ordinal });
    }

    public void Configure(EntityTypeBuilder<ResourceVersion> b)
    {
        b.ToTable("catalog_versions");
        b.HasIndex(v => new { v.ResourceId, v.Version }).IsUnique();
        b.HasOne<CatalogResource>().WithMany().HasForeignKey(v => v.ResourceId).OnDelete(DeleteBehavior.Cascade);
        b.Property(v => v.PublishedBy).HasMaxLength(200);
    }

    public void Configure(EntityTypeBuilder<ReviewComment> b)
    {
        b.ToTable("catalog_review_comments");
        b.HasIndex(c => c.ResourceId);
        b.HasOne<CatalogResource>().WithMany().HasForeignKey(c => c.ResourceId).OnDelete(DeleteBehavior.Cascade);
        b.Property(c => c.Action).HasMaxLength(32);
        b.Property(c => c.Text).HasMaxLength(2000);
        b.Property(c => c.ActorName).HasMaxLength(200);
    }

    public void Configure(EntityTypeBuilder<CatalogSearchToken> b)
    {
        b.ToTable("catalog_search_tokens");
        b.HasKey(t => new { t.Token, t.ResourceId });
        b.Property(t => t.Token).HasMaxLength(32);
        b.HasIndex(t => t.ResourceId);
        b.HasOne<CatalogResource>().WithMany().HasForeignKey(t => t.ResourceId).OnDelete(DeleteBehavior.Cascade);
    }
}
