using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets.Storage;

/// <summary>A column as stored: its name and storage class (text, numeric, double, bigint, date, timestamp, boolean).</summary>
public sealed record PhysicalColumn(string Column, string Type);

/// <summary>
/// The SQL of the dataset tables. Identifiers are never user text: table names are generated here and
/// column names pass <see cref="SchemaRules.IsColumnName"/>; <see cref="Q"/> re-checks every one before quoting.
/// Values always go in as parameters.
/// </summary>
internal sealed partial class SqlDialect(bool postgres)
{
    public bool IsPostgres { get; } = postgres;

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SafeIdentifier();

    public static string Q(string identifier) => SafeIdentifier().IsMatch(identifier)
        ? "\"" + identifier + "\""
        : throw new ArgumentException("Unsafe SQL identifier refused: " + identifier, nameof(identifier));

    public static string StorageClass(string type) => type[0] switch
    {
        'C' or 'M' or 'G' => "text",
        'N' or 'Y' => "numeric",
        'B' or 'F' => "double",
        'I' => "bigint",
        'D' => "date",
        'T' => "timestamp",
        'L' => "boolean",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown data item type."),
    };

    public string SqlType(string storageClass) => (IsPostgres, storageClass) switch
    {
        (true, "text") => "text",
        (true, "numeric") => "numeric",
        (true, "double") => "double precision",
        (true, "bigint") => "bigint",
        (true, "date") => "date",
        (true, "timestamp") => "timestamp",
        (true, "boolean") => "boolean",
        // SQLite: dates as ISO text sort correctly; booleans as 0/1.
        (false, "numeric") => "NUMERIC",
        (false, "double") => "REAL",
        (false, "bigint" or "boolean") => "INTEGER",
        (false, _) => "TEXT",
        _ => throw new ArgumentOutOfRangeException(nameof(storageClass)),
    };

    public string CreateTable(string table, IEnumerable<PhysicalColumn> columns, IReadOnlyList<string> keys)
    {
        var sb = new StringBuilder();
        sb.Append("CREATE TABLE ").Append(Q(table)).Append(" (");
        sb.Append(IsPostgres ? "\"_id\" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "\"_id\" INTEGER PRIMARY KEY");
        sb.Append(", \"_seq\" ").Append(IsPostgres ? "bigint" : "INTEGER").Append(" NOT NULL");
        sb.Append(", \"_deleted\" ").Append(IsPostgres ? "boolean" : "INTEGER").Append(" NOT NULL DEFAULT FALSE");
        sb.Append(", \"_load_id\" ").Append(IsPostgres ? "text" : "TEXT");
        foreach (var c in columns) sb.Append(", ").Append(Q(c.Column)).Append(' ').Append(SqlType(c.Type));
        sb.Append(");\n");
        sb.Append("CREATE INDEX ").Append(Q("ix_" + Short(table) + "_seq")).Append(" ON ").Append(Q(table)).Append(" (\"_seq\");\n");
        if (keys.Count > 0) sb.Append(CreateKeyIndex(table, keys)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The unique index on the key items (named per table so PostgreSQL's schema-wide index names do not clash).</summary>
    public static string KeyIndex(string table) => "ux_" + Short(table) + "_key";

    public static string CreateKeyIndex(string table, IReadOnlyList<string> keys) =>
        $"CREATE UNIQUE INDEX {Q(KeyIndex(table))} ON {Q(table)} ({List(keys)});";

    public string AddColumn(string table, PhysicalColumn column) =>
        $"ALTER TABLE {Q(table)} ADD COLUMN {Q(column.Column)} {SqlType(column.Type)};";

    public static string List(IEnumerable<string> columns, string? prefix = null) =>
        string.Join(", ", columns.Select(c => prefix + Q(c)));

    static string Short(string table) => table.Length <= 56 ? table : table[..47] + "_" + Hash(table);

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    /// <summary>ds_{slug}_v{n}; long slugs are cut and suffixed with a hash so names stay within PostgreSQL's 63 bytes.</summary>
    public static string TableName(string resourceId, int version)
    {
        var slug = resourceId.Replace('-', '_');
        if (slug.Length > 50) slug = slug[..41] + "_" + Hash(resourceId);
        return $"ds_{slug}_v{version}";
    }
}

/// <summary>Creates and migrates the per-resource tables from schemas.</summary>
internal sealed class DatasetStore
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Brings the resource's table in line with <paramref name="schema"/>: creates it, adds new columns,
    /// or (for a changed key or column type) starts a new table version and keeps the old one.
    /// Returns the registry row and what changed, for the audit trail.
    /// </summary>
    public async Task<(DatasetTable Table, string Change)> EnsureTableAsync(LianqiaoDb db, TableSchema schema, CancellationToken ct)
    {
        var dialect = new SqlDialect(db.IsPostgres);
        var wanted = schema.Columns.Select(c => new PhysicalColumn(c.Column, SqlDialect.StorageClass(c.Type))).ToList();
        var keys = schema.KeyColumns.Select(c => c.Column).ToList();
        var table = await db.Set<DatasetTable>().SingleOrDefaultAsync(t => t.ResourceId == schema.ResourceId, ct);

        string change;
        var ddl = new StringBuilder();
        if (table is null)
        {
            table = new DatasetTable
            {
                ResourceId = schema.ResourceId,
                DepartmentId = schema.DepartmentId,
                TableName = SqlDialect.TableName(schema.ResourceId, 1),
                Columns = JsonSerializer.Serialize(wanted, Json),
                KeyColumns = JsonSerializer.Serialize(keys, Json),
            };
            ddl.Append(dialect.CreateTable(table.TableName, wanted, keys));
            db.Add(table);
            change = "created " + table.TableName;
        }
        else
        {
            var existing = JsonSerializer.Deserialize<List<PhysicalColumn>>(table.Columns, Json)!;
            var existingKeys = JsonSerializer.Deserialize<List<string>>(table.KeyColumns, Json)!;
            var byName = existing.ToDictionary(c => c.Column, StringComparer.Ordinal);
            var incompatible = !keys.SequenceEqual(existingKeys, StringComparer.Ordinal)
                || wanted.Any(w => byName.TryGetValue(w.Column, out var e) && e.Type != w.Type);
            table.DepartmentId = schema.DepartmentId;
            if (incompatible)
            {
                if (table.RunningLoadId is not null) throw new DatasetBusyException();
                // The old table stays as it is: nothing is converted or dropped behind the owner's back.
                var retired = table.TableName;
                table.TableVersion++;
                table.TableName = SqlDialect.TableName(schema.ResourceId, table.TableVersion);
                table.RetiredTables = string.IsNullOrEmpty(table.RetiredTables) ? retired : table.RetiredTables + "," + retired;
                table.Columns = JsonSerializer.Serialize(wanted, Json);
                table.KeyColumns = JsonSerializer.Serialize(keys, Json);
                table.LiveRows = 0;
                ddl.Append(dialect.CreateTable(table.TableName, wanted, keys));
                change = $"new version {table.TableName}; {retired} kept";
            }
            else
            {
                var added = wanted.Where(w => !byName.ContainsKey(w.Column)).ToList();
                foreach (var a in added) ddl.Append(dialect.AddColumn(table.TableName, a)).Append('\n');
                // Columns dropped from the schema stay in the table (nullable) with their data.
                table.Columns = JsonSerializer.Serialize(existing.Concat(added).ToList(), Json);
                change = added.Count == 0 ? "unchanged" : "added " + string.Join(", ", added.Select(a => a.Column));
            }
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (ddl.Length > 0) await db.Database.ExecuteSqlRawAsync(ddl.ToString(), ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (table, change);
    }

    public static List<PhysicalColumn> ColumnsOf(DatasetTable table) => JsonSerializer.Deserialize<List<PhysicalColumn>>(table.Columns, Json)!;

    /// <summary>
    /// Takes <paramref name="count"/> change-sequence numbers for rows written in <paramref name="transaction"/>; returns the
    /// last. The counter row stays locked until commit, so writers take turns and numbers become visible in order.
    /// </summary>
    public static async Task<long> ReserveSequenceAsync(DbConnection connection, DbTransaction? transaction, long count, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = "UPDATE dataset_counters SET \"Value\" = \"Value\" + @n WHERE \"Name\" = 'seq' RETURNING \"Value\"";
        AddParameter(cmd, "n", count);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void AddParameter(DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
    }
}

internal sealed class DatasetBusyException() : Exception("A load is running for this resource.");
