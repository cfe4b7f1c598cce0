using Lianqiao.Domain.Masking;

namespace Lianqiao.Catalog;

/// <summary>What a steward sends to create or edit a resource; every field nullable so validation can name each gap.</summary>
public sealed record ResourceInput
{
    public string? Slug { get; init; }
    public string? Code { get; init; }
    public string? ClassCode { get; init; }
    public string? SubjectCode { get; init; }
    public string? CatalogCode { get; init; }
    public string? DetailCode { get; init; }
    public string? Name { get; init; }
    public Guid? DepartmentId { get; init; }
    public string? ProviderCode { get; init; }
    public string? Summary { get; init; }
    public string? FormatCategory { get; init; }
    public string? FormatType { get; init; }
    public string? ShareType { get; init; }
    public string? ShareCondition { get; init; }
    public string? ShareMethodClass { get; init; }
    public string? ShareMethodType { get; init; }
    public string? NotSharedBasis { get; init; }
    public string? OpenType { get; init; }
    public string? OpenCondition { get; init; }
    public string? UpdateCycle { get; init; }
    public DateOnly? PublishDate { get; init; }
    public List<string>? RelatedCodes { get; init; }
    public List<string>? Tags { get; init; }
    public List<string>? Keywords { get; init; }
    public string? Contact { get; init; }
    public string? Library { get; init; }
    public string? ClassificationLevel { get; init; }
    public List<DataItemInput>? Items { get; init; }
}

public sealed record DataItemInput
{
    public string? Name { get; init; }
    public string? ColumnName { get; init; }
    public string? DataType { get; init; }
    public int? Length { get; init; }
    public bool? Required { get; init; }
    public bool? IsKey { get; init; }
    public string? CodeTable { get; init; }
    public string? Sensitivity { get; init; }
    public ItemKind? Kind { get; init; }
    public string? MaskingRule { get; init; }
    public int? MaskKeepFirst { get; init; }
    public int? MaskKeepLast { get; init; }
    public string? Description { get; init; }
}

/// <summary>A resource as every reader sees it (modules, API, pages). <see cref="Id"/> is the URL-safe slug.</summary>
public sealed record ResourceDto(
    string Id, string Code, string ClassCode, string SubjectCode, string CatalogCode, string DetailCode,
    string Name, Guid DepartmentId, string DepartmentName, string ProviderCode, string Summary,
    string FormatCategory, string FormatType,
    string ShareType, string? ShareCondition, string? ShareMethodClass, string? ShareMethodType, string? NotSharedBasis,
    string OpenType, string? OpenCondition, string UpdateCycle, DateOnly? PublishDate,
    IReadOnlyList<string> RelatedCodes, IReadOnlyList<string> Tags, IReadOnlyList<string> Keywords, string? Contact,
    string Library, string ClassificationLevel, ResourceStatus Status, int Version, bool IsRevision, string Grade,
    OpenEligibility Open, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<DataItemDto> Items);

public sealed record DataItemDto(string Name, string ColumnName, string DataType, int? Length, bool Required, bool IsKey,
    string? CodeTable, string Sensitivity, ItemKind Kind, string MaskingRule, int? MaskKeepFirst, int? MaskKeepLast,
    string Description, bool Open);

/// <summary>
/// Derived, never entered: whether the resource may be opened and under which type, why not, and which
/// columns an open caller sees.
/// </summary>
public sealed record OpenEligibility(bool Eligible, string EffectiveOpenType, IReadOnlyList<string> Reasons, IReadOnlyList<string> OpenColumns);

public sealed record ReviewInput(bool Approve, string? Comment);
public sealed record CommentInput(string? Comment);

public sealed record ReviewCommentDto(string Action, string Text, string? ActorName, DateTimeOffset At);

public sealed record VersionSummaryDto(int Version, DateTimeOffset PublishedAt, string? PublishedBy, int Changes);
public sealed record VersionDto(int Version, DateTimeOffset PublishedAt, string? PublishedBy, ResourceInput Snapshot, IReadOnlyList<FieldChange> Diff);
public sealed record FieldChange(string Field, string? Before, string? After);
public sealed record DiffDto(int From, int To, IReadOnlyList<FieldChange> Changes);

public sealed record ResourceHistoryDto(IReadOnlyList<VersionSummaryDto> Versions, IReadOnlyList<ReviewCommentDto> Comments, bool HasPendingRevision);

public sealed record SearchHit(string Id, string Code, string Name, string DepartmentName, string Summary, string ShareType,
    string OpenType, string FormatCategory, string UpdateCycle, string Grade, string Library, ResourceStatus Status, int Version,
    bool OpenEligible, DateOnly? PublishDate, DateTimeOffset UpdatedAt);

public sealed record FacetValue(string Value, string Label, int Count);

public sealed record SearchResult(int Total, int Page, int PageSize, IReadOnlyList<SearchHit> Results,
    IReadOnlyDictionary<string, IReadOnlyList<FacetValue>> Facets);
