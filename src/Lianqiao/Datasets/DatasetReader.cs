using Lianqiao.Data;
using Lianqiao.Datasets.Storage;
using Lianqiao.Quality;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>Reads stored rows by change sequence: the primitive incremental sync (since=) builds on.</summary>
internal static class DatasetReader
{
    public static async Task<List<Dictionary<string, object?>>> ReadChangesAsync(LianqiaoDb db, DatasetTable table, long since, int limit, CancellationToken ct)
    {
        var columns = DatasetStore.ColumnsOf(table);
        var conn = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT \"_seq\", \"_deleted\", {SqlDialect.List(columns.Select(c => c.Column))} FROM {SqlDialect.Q(table.TableName)} WHERE \"_seq\" > @since ORDER BY \"_seq\" LIMIT @limit";
            DatasetStore.AddParameter(cmd, "since", since);
            DatasetStore.AddParameter(cmd, "limit", limit);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            var rows = new List<Dictionary<string, object?>>();
            while (await reader.ReadAsync(ct))
            {
                var row = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["_seq"] = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
                    ["_deleted"] = Convert.ToBoolean(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture),
                };
                for (var i = 0; i < columns.Count; i++)
                {
                    row[columns[i].Column] = reader.IsDBNull(i + 2) ? null : Value(columns[i].Type, reader.GetValue(i + 2));
                }
                rows.Add(row);
            }
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    static object? Value(string storageClass, object value) => storageClass switch
    {
        "boolean" => Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture),
        "date" => value switch { DateTime d => DateOnly.FromDateTime(d).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), _ => ValueParser.Format(value) },
        "timestamp" => ValueParser.Format(value),
        "text" => ValueParser.Format(value),
        _ => value,
    };
}
