using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>The columns and rules part of a schema, as stored in <see cref="DatasetSchemaRecord.Definition"/>.</summary>
internal sealed record SchemaDefinition(IReadOnlyList<ColumnSpec> Columns, IReadOnlyList<RuleSpec> Rules);

/// <summary>
/// Schemas from the dataset_schemas registration. Replaced by the catalog's implementation when the
/// catalog module lands: one line in DatasetsModule.AddDatasets (docs/architecture.md, Datasets).
/// </summary>
internal sealed class RegisteredSchemaSource(IServiceScopeFactory scopes) : ITableSchemaSource
{
    public async Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var record = await db.Set<DatasetSchemaRecord>().AsNoTracking().SingleOrDefaultAsync(s => s.ResourceId == resourceId, cancellationToken);
        return record is null ? null : ToSchema(record);
    }

    public static TableSchema ToSchema(DatasetSchemaRecord record)
    {
        var definition = JsonSerializer.Deserialize<SchemaDefinition>(record.Definition, DatasetStore.Json)!;
        return new TableSchema
        {
            ResourceId = record.ResourceId,
            Name = record.Name,
            DepartmentId = record.DepartmentId,
            UpdateCycle = record.UpdateCycle,
            Columns = definition.Columns,
            Rules = definition.Rules ?? [],
        };
    }
}
