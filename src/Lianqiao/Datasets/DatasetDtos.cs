using System.Text.Json;
using Lianqiao.Datasets.Storage;
using Lianqiao.Domain.Masking;
using Lianqiao.Quality;

namespace Lianqiao.Datasets;

public sealed record SchemaInput(string? Name, Guid? DepartmentId, string? UpdateCycle, IReadOnlyList<ColumnSpec>? Columns, IReadOnlyList<RuleSpec>? Rules);

public sealed record SchemaView(TableSchema Schema, int Version, DateTimeOffset UpdatedAt, string? TableName, int TableVersion,
    IReadOnlyList<string> RetiredTables, long LiveRows, string? Change);

public sealed record DatasetSummaryDto(string ResourceId, string Name, Guid DepartmentId, string? UpdateCycle, string? TableName,
    long LiveRows, DateTimeOffset? LastSuccessAt, int OverdueDays, bool Loading);

public sealed record LoadDto(Guid Id, string ResourceId, string Mode, string Format, string? FileName, long FileBytes, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string StartedBy, long RowsRead, long RowsAccepted, long RowsQuarantined,
    long RowsWarned, long RowsInserted, long RowsUpdated, long RowsDeleted, string? Error, QualityReport? Report, double? Progress);

public sealed record QuarantineDto(Guid Id, Guid LoadId, long Line, string Rule, string? Column, string Severity, bool Kept,
    string Reason, JsonElement Issues, IReadOnlyDictionary<string, string?> Raw, bool Masked);

public sealed record QuarantinePage(IReadOnlyList<QuarantineDto> Items, long Total, int Page, int PageSize);

public sealed record QualityTrendPoint(Guid LoadId, DateTimeOffset? FinishedAt, long RowsRead, long RowsQuarantined, IReadOnlyList<DimensionScore> Dimensions);

public sealed record QualityView(string ResourceId, string Name, QualityReport? Latest, IReadOnlyList<QualityTrendPoint> Trend);

public sealed record OverdueDto(string ResourceId, string Name, Guid DepartmentId, string? DepartmentName, string? UpdateCycle,
    DateTimeOffset? LastSuccessAt, int OverdueDays, bool WorkingDays);

public sealed record RowsPage(IReadOnlyList<Dictionary<string, object?>> Rows, long? NextSince);

internal static class DatasetMapping
{
    public static LoadDto AsDto(this DatasetLoad l) => new(l.Id, l.ResourceId, l.Mode, l.Format, l.FileName, l.FileBytes, l.Status,
        l.StartedAt, l.FinishedAt, l.StartedByName, l.RowsRead, l.RowsAccepted, l.RowsQuarantined, l.RowsWarned, l.RowsInserted,
        l.RowsUpdated, l.RowsDeleted, l.Error,
        l.Report is null ? null : JsonSerializer.Deserialize<QualityReport>(l.Report, QuarantineWriter.Json), l.Progress);

    public static QuarantineDto AsDto(this QuarantineRow q, RawMasker? masker)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, string?>>(q.Raw, QuarantineWriter.Json) ?? [];
        return new QuarantineDto(q.Id, q.LoadId, q.Line, q.Rule, q.Column, q.Severity, q.Kept,
            q.Reason, JsonSerializer.Deserialize<JsonElement>(q.Issues),
            masker is null ? raw : masker.Mask(raw), masker is not null);
    }

    public static SchemaView View(TableSchema schema, DatasetSchemaRecord? record, DatasetTable? table, string? change) => new(
        schema, record?.Version ?? 1, record?.UpdatedAt ?? DateTimeOffset.UnixEpoch, table?.TableName, table?.TableVersion ?? 0,
        string.IsNullOrEmpty(table?.RetiredTables) ? [] : table.RetiredTables.Split(','), table?.LiveRows ?? 0, change);
}

/// <summary>
/// Masks a quarantined raw row for callers other than the owning steward: by each column's masking kind
/// (declared, or inferred from its format rule), suppressing anything it cannot place.
/// </summary>
internal sealed class RawMasker
{
    readonly Dictionary<string, MaskingRule> rules = new(StringComparer.OrdinalIgnoreCase);
    static readonly MaskingRule Hide = MaskingRule.KeepEnds(0, 0);

    public RawMasker(TableSchema schema)
    {
        foreach (var c in schema.Columns)
        {
            var rule = MaskingDefaults.For(KindOf(c));
            if (rule.Kind == MaskingKind.None && c.Sensitivity is "L3" or "L4") rule = Hide;
            rules[c.Column] = rule;
            rules.TryAdd(c.Name, rule);
        }
    }

    static ItemKind KindOf(ColumnSpec c)
    {
        if (c.Masking is not null && Enum.TryParse<ItemKind>(c.Masking, true, out var declared)) return declared;
        var kinds = c.Rules.Select(r => r.Kind).ToHashSet();
        if (kinds.Contains(RuleKinds.IdNumber)) return ItemKind.IdNumber;
        if (kinds.Contains(RuleKinds.Mobile)) return ItemKind.Mobile;
        if (kinds.Contains(RuleKinds.Email)) return ItemKind.Email;
        return ItemKind.Other;
    }

    public Dictionary<string, string?> Mask(IReadOnlyDictionary<string, string?> raw) =>
        raw.ToDictionary(kv => kv.Key, kv => kv.Value is null ? null
            : Masker.Apply(rules.TryGetValue(kv.Key, out var r) ? r : Hide, kv.Value, []) ?? "***");
}

internal static class TableColumns
{
    public static IReadOnlyList<PhysicalColumn> Of(DatasetTable t) => DatasetStore.ColumnsOf(t);
}
