using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>
/// Table schemas from the catalog: a published resource of a tabular format category and its data items.
/// The catalog has no rule editor yet, so format rules are inferred from each item's kind (ID number,
/// mobile, e-mail) and the ID/birth-date/gender consistency rule from the items present.
/// </summary>
internal sealed class CatalogSchemaSource(IServiceScopeFactory scopes) : ITableSchemaSource
{
    // 电子文件, 图形图像, 流媒体, 服务接口 hold no rows (format-category code table).
    static readonly HashSet<string> NonTabular = ["1", "4", "5", "7"];

    public async Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken)
    {
        if (!SchemaRules.IsResourceId(resourceId)) return null;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var resource = await db.Set<CatalogResource>().AsNoTracking().Include(r => r.Items)
            .SingleOrDefaultAsync(r => r.Slug == resourceId && r.RevisionOf == null, cancellationToken);
        if (resource is null || resource.Version == 0 || resource.Status != ResourceStatus.Published
            || NonTabular.Contains(resource.FormatCategory) || resource.Items.Count == 0) return null;
        var schema = ToSchema(resource);
        return SchemaRules.Validate(schema).Count == 0 ? schema : null;
    }

    internal static TableSchema ToSchema(CatalogResource r)
    {
        var columns = r.Items.OrderBy(i => i.Ordinal).Select(i => new ColumnSpec
        {
            Name = i.Name,
            Column = ColumnName(i.ColumnName),
            Type = i.DataType,
            Length = i.DataType is "C" or "M" or "G" or "N" or "Y" ? i.Length : null,
            Required = i.Required || i.IsKey,
            Key = i.IsKey,
            CodeTable = i.CodeTable,
            Sensitivity = i.Sensitivity,
            Masking = i.Kind.ToString(),
            Rules = ImpliedRules(i),
        }).ToList();
        // The steward's rules (PUT /api/v1/catalog/{slug}/quality-rules) come first; the implied consistency rule is added when absent.
        var rules = System.Text.Json.JsonSerializer.Deserialize<List<RuleSpec>>(r.QualityRules, Storage.DatasetStore.Json) ?? [];
        var id = r.Items.FirstOrDefault(i => i.Kind == ItemKind.IdNumber);
        var birth = r.Items.FirstOrDefault(i => i.Kind == ItemKind.BirthDate && i.DataType is "D" or "T");
        var gender = r.Items.FirstOrDefault(i => i.CodeTable == "gender");
        if (id is not null && (birth is not null || gender is not null) && !rules.Any(x => x.Kind == RuleKinds.IdConsistency))
        {
            rules.Add(new RuleSpec
            {
                Kind = RuleKinds.IdConsistency, Column = ColumnName(id.ColumnName),
                Other = birth is null ? null : ColumnName(birth.ColumnName), GenderColumn = gender is null ? null : ColumnName(gender.ColumnName),
            });
        }
        return new TableSchema
        {
            ResourceId = r.Slug, Name = r.Name, DepartmentId = r.DepartmentId, UpdateCycle = r.UpdateCycle, Columns = columns, Rules = rules,
        };
    }

    /// <summary>What an item's kind and name say about its values (GB 11643, GB 32100, GB 11714, phone, e-mail).</summary>
    static List<RuleSpec> ImpliedRules(DataItem item)
    {
        var rules = new List<RuleSpec>();
        switch (item.Kind)
        {
            case ItemKind.IdNumber: rules.Add(new RuleSpec { Kind = RuleKinds.IdNumber }); break;
            case ItemKind.Mobile: rules.Add(new RuleSpec { Kind = RuleKinds.Mobile, Severity = RuleSeverity.Warning }); break;
            case ItemKind.Email: rules.Add(new RuleSpec { Kind = RuleKinds.Email, Severity = RuleSeverity.Warning }); break;
        }
        if (item.Name.Contains("统一社会信用代码", StringComparison.Ordinal)) rules.Add(new RuleSpec { Kind = RuleKinds.CreditCode });
        if (item.Name.Contains("组织机构代码", StringComparison.Ordinal)) rules.Add(new RuleSpec { Kind = RuleKinds.OrgCode });
        return rules;
    }

    // The catalog allows upper case and a leading underscore; dataset tables reserve _ for system columns.
    static string ColumnName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.StartsWith('_') ? "c" + lower : lower;
    }
}

/// <summary>
/// The catalog is the source of truth for its published resources (items and quality rules); the registration serves
/// only resources outside the catalog (staging tables, the engine's own tests).
/// </summary>
internal sealed class CompositeSchemaSource(RegisteredSchemaSource registered, CatalogSchemaSource catalog) : ITableSchemaSource
{
    public async Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken) =>
        await catalog.FindAsync(resourceId, cancellationToken) ?? await registered.FindAsync(resourceId, cancellationToken);
}
