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
            Rules = i.Kind switch
            {
                ItemKind.IdNumber => [new RuleSpec { Kind = RuleKinds.IdNumber }],
                ItemKind.Mobile => [new RuleSpec { Kind = RuleKinds.Mobile, Severity = RuleSeverity.Warning }],
                ItemKind.Email => [new RuleSpec { Kind = RuleKinds.Email, Severity = RuleSeverity.Warning }],
                _ => [],
            },
        }).ToList();
        var rules = new List<RuleSpec>();
        var id = r.Items.FirstOrDefault(i => i.Kind == ItemKind.IdNumber);
        var birth = r.Items.FirstOrDefault(i => i.Kind == ItemKind.BirthDate && i.DataType is "D" or "T");
        var gender = r.Items.FirstOrDefault(i => i.CodeTable == "gender");
        if (id is not null && (birth is not null || gender is not null))
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

    // The catalog allows upper case and a leading underscore; dataset tables reserve _ for system columns.
    static string ColumnName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.StartsWith('_') ? "c" + lower : lower;
    }
}

/// <summary>A schema registered for the resource wins (it carries explicit rules); otherwise the catalog's.</summary>
internal sealed class CompositeSchemaSource(RegisteredSchemaSource registered, CatalogSchemaSource catalog) : ITableSchemaSource
{
    public async Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken) =>
        await registered.FindAsync(resourceId, cancellationToken) ?? await catalog.FindAsync(resourceId, cancellationToken);
}
