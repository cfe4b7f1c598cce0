using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets.Storage;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>Saves a registered schema and brings its table along, in one transaction. Callers authorise and audit.</summary>
internal sealed class SchemaRegistry(LianqiaoDb db, DatasetStore store, TimeProvider time)
{
    public async Task<(SchemaView? View, Dictionary<string, string[]>? Errors)> SaveAsync(
        string resourceId, SchemaInput input, Guid departmentId, DatasetSchemaRecord? record, CancellationToken ct)
    {
        record ??= await db.Set<DatasetSchemaRecord>().SingleOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        var schema = new TableSchema
        {
            ResourceId = resourceId,
            Name = input.Name ?? "",
            DepartmentId = departmentId,
            UpdateCycle = input.UpdateCycle,
            Columns = input.Columns ?? [],
            Rules = input.Rules ?? [],
        };
        var errors = SchemaRules.Validate(schema);
        if (!await db.Set<Department>().AnyAsync(d => d.Id == departmentId, ct)) errors["departmentId"] = ["部门不存在 / no such department"];
        if (errors.Count > 0) return (null, errors);

        var definition = JsonSerializer.Serialize(new SchemaDefinition(schema.Columns, schema.Rules), DatasetStore.Json);
        if (record is null)
        {
            record = new DatasetSchemaRecord { ResourceId = resourceId, Name = schema.Name, Definition = definition };
            db.Add(record);
        }
        else
        {
            record.Version++;
        }
        record.Name = schema.Name;
        record.DepartmentId = departmentId;
        record.UpdateCycle = schema.UpdateCycle;
        record.Definition = definition;
        record.UpdatedAt = time.GetUtcNow();
        // The registration and the table change commit together (EnsureTable saves the tracked record too).
        var (table, change) = await store.EnsureTableAsync(db, schema, ct);
        return (DatasetMapping.View(schema, record, table, change), null);
    }
}
