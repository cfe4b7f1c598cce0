using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lianqiao.Sharing;

/// <summary>
/// Adds to the counters of one row in one statement, creating the row on first use:
/// <c>INSERT … ON CONFLICT (key) DO UPDATE SET c = row.c + excluded.c [WHERE row.c + excluded.c &lt;= ceiling] RETURNING c</c>.
/// SQLite (3.35 and later) and PostgreSQL run the same text. Concurrent adders on any node queue on the row's lock,
/// so no count is lost and a ceiling is never passed; there is no "read, then write" gap to race through.
/// Used by the daily quotas (<see cref="QuotaCounter"/>) and the statistics counters (<see cref="CounterBuffer{TKey}"/>).
/// </summary>
internal static class CounterUpsert
{
    /// <summary>
    /// Inserts <paramref name="row"/> (its counters hold the amounts to add) or adds its <paramref name="counters"/> to the
    /// existing row. With a <paramref name="ceiling"/>, nothing is added when the first counter would pass it.
    /// Returns the first counter's new value; null when the ceiling refused the addition.
    /// </summary>
    public static async Task<long?> AddAsync<T>(LianqiaoDb db, T row, string[] counters, long? ceiling, CancellationToken ct) where T : class
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(IProperty p) => $"\"{p.GetColumnName(table)}\"";
        var properties = entity.GetProperties().ToList();
        var counted = counters.Select(name => entity.FindProperty(name) ?? throw new ArgumentException($"{typeof(T).Name} has no property {name}.", nameof(counters))).ToList();
        var first = Column(counted[0]);
        var target = $"\"{table.Name}\"";
        // The insert itself must respect the ceiling: a first use larger than the quota never creates a row.
        if (ceiling is { } max && (long)counted[0].GetGetter().GetClrValue(row)! > max) return null;

        var values = properties.Select(p => p.GetTypeMapping().Converter is { } converter
            ? converter.ConvertToProvider(p.GetGetter().GetClrValue(row))
            : p.GetGetter().GetClrValue(row)).ToList();
        var sql = $"INSERT INTO {target} ({string.Join(", ", properties.Select(Column))}) VALUES ({string.Join(", ", properties.Select((_, i) => $"{{{i}}}"))}) "
            + $"ON CONFLICT ({string.Join(", ", entity.FindPrimaryKey()!.Properties.Select(Column))}) "
            + $"DO UPDATE SET {string.Join(", ", counted.Select(p => $"{Column(p)} = {target}.{Column(p)} + excluded.{Column(p)}"))} ";
        if (ceiling is not null)
        {
            sql += $"WHERE {target}.{first} + excluded.{first} <= {{{values.Count}}} ";
            values.Add(ceiling.Value);
        }
        sql += $"RETURNING {first} AS \"Value\"";
        var result = await db.Database.SqlQueryRaw<long>(sql, values.ToArray()!).ToListAsync(ct);
        return result.Count == 0 ? null : result[0];
    }
}
