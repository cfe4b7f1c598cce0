using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Storage;
using Lianqiao.Domain.Masking;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>
/// The catalog as the load engine's schema source: a published resource's data items become the table's
/// columns, and its quality rules are the ones its items imply (an ID number is checked as one, a code table
/// as a domain, …) plus the rules set on the resource. Resources outside the catalog fall back to the
/// datasets module's own registration (staging tables, tests of the engine itself).
/// </summary>
internal sealed class CatalogSchemaSource(IServiceScopeFactory scopes, RegisteredSchemaSource registered) : ITableSchemaSource
{
    static readonly string[] TabularFormats = ["2", "3", "6"];

    public async Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var resource = await db.Set<CatalogResource>().AsNoTracking().Include(r => r.Items)
            .FirstOrDefaultAsync(r => r.Slug == resourceId && r.RevisionOf == null && r.Status == ResourceStatus.Published, cancellationToken);
        if (resource is null) return await registered.FindAsync(resourceId, cancellationToken);
        if (!TabularFormats.Contains(resource.FormatCategory)) return null;
        return ToSchema(resource);
    }

    internal static TableSchema ToSchema(CatalogResource resource) => new()
    {
        ResourceId = resource.Slug,
        Name = resource.Name,
        DepartmentId = resource.DepartmentId,
        UpdateCycle = resource.UpdateCycle,
        Columns = resource.Items.OrderBy(i => i.Ordinal).Select(i => new ColumnSpec
        {
            Name = i.Name,
            Column = i.ColumnName,
            Type = i.DataType,
            Length = i.Length,
            Required = i.Required,
            Key = i.IsKey,
            CodeTable = i.CodeTable,
            Sensitivity = i.Sensitivity,
            Masking = i.Kind.ToString(),
            Rules = ImpliedRules(i),
        }).ToList(),
        Rules = JsonSerializer.Deserialize<List<RuleSpec>>(resource.QualityRules, DatasetStore.Json) ?? [],
    };

    /// <summary>What an item's kind and name say about its values (GB 11643, GB 32100, GB 11714, phone, e-mail).</summary>
    static List<RuleSpec> ImpliedRules(DataItem item)
    {
        var rules = new List<RuleSpec>();
        switch (item.Kind)
        {
            case ItemKind.IdNumber: rules.Add(new RuleSpec { Kind = RuleKinds.IdNumber }); break;
            case ItemKind.Mobile: rules.Add(new RuleSpec { Kind = RuleKinds.Mobile }); break;
            case ItemKind.Email: rules.Add(new RuleSpec { Kind = RuleKinds.Email }); break;
        }
        if (item.ColumnName is "credit_code" or "uscc" || item.Name.Contains("统一社会信用代码", StringComparison.Ordinal))
            rules.Add(new RuleSpec { Kind = RuleKinds.CreditCode });
        if (item.ColumnName is "org_code" || item.Name.Contains("组织机构代码", StringComparison.Ordinal))
            rules.Add(new RuleSpec { Kind = RuleKinds.OrgCode });
        return rules;
    }
}
