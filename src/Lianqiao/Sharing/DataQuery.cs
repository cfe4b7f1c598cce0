using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Storage;
using Lianqiao.Domain.Masking;
using Lianqiao.Domain.Query;
using Lianqiao.Masking;
using Lianqiao.Output;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>What a consumer asked for, parsed from the data API's query string.</summary>
public sealed record DataRequest(string? Select, string? Where, string? Order, long? Limit, long? Offset, string? Cursor, long? Since);

/// <summary>
/// Builds and runs one parameterised query over a resource's table under a grant: projection to the granted
/// fields, the grant's row filter ANDed with the caller's $where, masking per column, and either a page
/// (offset or keyset cursor on the row id) or a change feed (since= a change sequence, tombstones included).
/// Rows stream from the database reader to the writer; nothing is buffered.
/// </summary>
internal sealed class DataQuery
{
    public required IReadOnlyList<OutputColumn> Columns { get; init; }
    public required string Sql { get; init; }
    public required IReadOnlyList<(string Name, object? Value)> Parameters { get; init; }
    public required IReadOnlyList<ColumnMask> Masks { get; init; }
    public required IReadOnlyList<string> StorageClasses { get; init; }
    public required bool ChangeFeed { get; init; }
    /// <summary>Change feed only: the row's stable id (one per resource key) follows "_seq" and "_deleted"; delivery keys target rows on it.</summary>
    public bool RowIds { get; init; }
    public required long Limit { get; init; }

    /// <summary>Last row id (page) or change sequence (feed) streamed, for the next cursor.</summary>
    public long Last { get; private set; } = -1;

    static ColumnType TypeOf(string storageClass) => storageClass switch
    {
        "bigint" => ColumnType.Integer,
        "numeric" or "double" => ColumnType.Decimal,
        "boolean" => ColumnType.Boolean,
        "date" => ColumnType.Date,
        "timestamp" => ColumnType.DateTime,
        _ => ColumnType.Text,
    };

    static OutputType OutputTypeOf(string storageClass, bool masked) => masked ? OutputType.Text : storageClass switch
    {
        "bigint" => OutputType.Integer,
        "numeric" or "double" => OutputType.Number,
        "boolean" => OutputType.Boolean,
        _ => OutputType.Text,
    };

    /// <summary>How many of <see cref="Parameters"/> come from the grant's row filter and the caller's $where (the rest: cursor or since, limit, offset).</summary>
    int FixedParameters { get; init; }

    /// <summary>The data API's shapes per remembered grant object (see <see cref="BuildRemembered"/>).</summary>
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Grant, GrantShapes> Shapes = [];

    sealed class GrantShapes(ResourceDto resource, DatasetTable table)
    {
        public ResourceDto Resource { get; } = resource;
        public DatasetTable Table { get; } = table;
        public System.Collections.Concurrent.ConcurrentDictionary<(string? Select, string? Where, string? Order, int Paging), DataQuery> Built { get; } = new();
    }

    /// <summary>
    /// <see cref="Build"/> for the data API, remembered per grant object and request shape. The grant, catalog entry and
    /// table row are objects this node remembers for at most a second, so a client walking pages gets the statement, masks
    /// and columns built about once a second instead of on every page; only the cursor, limit and offset values are new.
    /// A new grant, catalog entry or table row object starts afresh, so a revoke or a masking change is never outlived.
    /// </summary>
    public static DataQuery BuildRemembered(ResourceDto resource, DatasetTable table, Grant grant, DataRequest request, long limit)
    {
        if (!Shapes.TryGetValue(grant, out var shapes) || !ReferenceEquals(shapes.Resource, resource) || !ReferenceEquals(shapes.Table, table))
        {
            shapes = new GrantShapes(resource, table);
            Shapes.AddOrUpdate(grant, shapes);
        }
        var paging = (request.Since is not null ? 1 : 0) | (!string.IsNullOrWhiteSpace(request.Cursor) ? 2 : 0) | (request.Offset is > 0 ? 4 : 0);
        var key = (request.Select, request.Where, request.Order, paging);
        if (shapes.Built.TryGetValue(key, out var shape)) return shape.WithValues(request, limit);
        var query = Build(resource, table, grant, request, limit);
        // A few shapes per grant (a client pages one way); callers that vary $where endlessly are built each time.
        if (shapes.Built.Count < 32) shapes.Built.TryAdd(key, query);
        return query;
    }

    /// <summary>This query's statement, masks and columns with the cursor (or since), limit and offset of <paramref name="request"/>, as <see cref="Build"/> adds them.</summary>
    DataQuery WithValues(DataRequest request, long limit)
    {
        var parameters = new List<(string Name, object? Value)>(FixedParameters + 3);
        for (var i = 0; i < FixedParameters; i++) parameters.Add(Parameters[i]);
        if (request.Since is { } since) parameters.Add(("since", since));
        else if (!string.IsNullOrWhiteSpace(request.Cursor)) parameters.Add(("cursor", DecodeCursor(request.Cursor)));
        parameters.Add(("limit", limit));
        if (request.Offset is > 0 && request.Since is null) parameters.Add(("offset", request.Offset.Value));
        return new DataQuery
        {
            Columns = Columns, Sql = Sql, Parameters = parameters, Masks = Masks, StorageClasses = StorageClasses, ChangeFeed = ChangeFeed,
            RowIds = RowIds, Limit = limit, FixedParameters = FixedParameters,
        };
    }

    /// <summary>Builds the query; throws <see cref="QueryException"/> with every error of the caller's parameters.</summary>
    public static DataQuery Build(ResourceDto resource, DatasetTable table, Grant grant, DataRequest request, long limit, bool rowIds = false)
    {
        var physical = PhysicalColumns(table);
        // Columns leave in the catalog's item order, whatever order the grant lists them in.
        var granted = resource.Items.Select(i => i.ColumnName).Where(c => grant.Fields.Contains(c) && physical.ContainsKey(c)).ToList();
        var masks = MaskingService.Plan(resource, granted, grant.UnmaskedFields).ToDictionary(m => m.Column, StringComparer.Ordinal);

        // The caller may name only granted fields, and filter or sort only on those it receives unmasked.
        var schema = new QuerySchema(granted.Select(c => new QueryColumn(c, c, TypeOf(physical[c]), Filterable: !masks[c].Masked)));
        var renderer = new SqlRenderer(schema);
        var selected = string.IsNullOrWhiteSpace(request.Select) ? granted : QueryParser.ParseSelect(request.Select).Select(c => c.Name).ToList();
        var errors = QueryValidator.Validate(schema, select: selected.Select(s => new ColumnRef(s, 0)).ToList());
        if (errors.Count > 0) throw new QueryException(errors);

        var sql = new StringBuilder("SELECT ");
        rowIds = rowIds && request.Since is not null;
        sql.Append(request.Since is null ? "\"_id\"" : rowIds ? "\"_seq\", \"_deleted\", \"_id\"" : "\"_seq\", \"_deleted\"");
        foreach (var c in selected) sql.Append(", ").Append(SqlRenderer.Quote(c));
        sql.Append(" FROM ").Append(SqlRenderer.Quote(table.TableName)).Append(" WHERE ");
        var parameters = new List<(string, object?)>();
        var conditions = new List<string>();

        if (!string.IsNullOrWhiteSpace(grant.RowFilter))
        {
            // The provider's row filter may name any column of the table, masked or not: it is not the caller's.
            var all = new QuerySchema(physical.Select(p => new QueryColumn(p.Key, p.Key, TypeOf(p.Value))));
            var grantRenderer = new SqlRenderer(all);
            var fragment = grantRenderer.Where(QueryParser.ParseWhere(grant.RowFilter));
            renderer = new SqlRenderer(schema, PlaceholderStyle.AtNamed, grantRenderer.NextParameter);
            conditions.Add("(" + fragment.Sql + ")");
            parameters.AddRange(fragment.Names.Zip(fragment.Values));
        }
        if (!string.IsNullOrWhiteSpace(request.Where))
        {
            var fragment = renderer.Where(QueryParser.ParseWhere(request.Where));
            conditions.Add("(" + fragment.Sql + ")");
            parameters.AddRange(fragment.Names.Zip(fragment.Values));
        }

        var fixedParameters = parameters.Count;
        string order;
        if (request.Since is { } since)
        {
            // The change feed: every change after the caller's checkpoint, deletions as tombstones, in sequence order.
            conditions.Add("\"_seq\" > @since");
            parameters.Add(("since", since));
            order = "\"_seq\"";
        }
        else
        {
            conditions.Add("NOT \"_deleted\"");
            if (!string.IsNullOrWhiteSpace(request.Cursor))
            {
                conditions.Add("\"_id\" > @cursor");
                parameters.Add(("cursor", DecodeCursor(request.Cursor)));
            }
            order = string.IsNullOrWhiteSpace(request.Order) ? "\"_id\"" : renderer.OrderBy(QueryParser.ParseOrder(request.Order)) + ", \"_id\"";
        }
        sql.Append(string.Join(" AND ", conditions)).Append(" ORDER BY ").Append(order).Append(" LIMIT @limit");
        parameters.Add(("limit", limit));
        if (request.Offset is > 0 && request.Since is null)
        {
            sql.Append(" OFFSET @offset");
            parameters.Add(("offset", request.Offset.Value));
        }

        var outputMasks = selected.Select(c => masks[c]).ToList();
        var columns = selected.Select(c => new OutputColumn(c, resource.Items.First(i => i.ColumnName == c).Name, OutputTypeOf(physical[c], masks[c].Masked))).ToList();
        if (rowIds) columns.Insert(0, new OutputColumn("_id", "行标识", OutputType.Integer));
        if (request.Since is not null)
        {
            columns.Insert(0, new OutputColumn("_deleted", "已删除", OutputType.Boolean));
            columns.Insert(0, new OutputColumn("_seq", "变更序号", OutputType.Integer));
        }
        return new DataQuery
        {
            Columns = columns,
            Sql = sql.ToString(),
            Parameters = parameters,
            Masks = outputMasks,
            StorageClasses = selected.Select(c => physical[c]).ToList(),
            ChangeFeed = request.Since is not null,
            RowIds = rowIds,
            Limit = limit,
            FixedParameters = fixedParameters,
        };
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DatasetTable, Dictionary<string, string>> Parsed = [];

    /// <summary>
    /// Column → storage class of the table. The data API shares one remembered table row between calls for up to a
    /// second, so its columns JSON is parsed once per row object rather than on every call.
    /// </summary>
    static Dictionary<string, string> PhysicalColumns(DatasetTable table) =>
        Parsed.GetValue(table, t => DatasetStore.ColumnsOf(t).ToDictionary(c => c.Column, c => c.Type, StringComparer.Ordinal));

    public static string EncodeCursor(long id) => Convert.ToBase64String(Encoding.UTF8.GetBytes("id:" + id.ToString(CultureInfo.InvariantCulture)));

    static long DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith("id:", StringComparison.Ordinal) && long.TryParse(text[3..], CultureInfo.InvariantCulture, out var id)) return id;
        }
        catch (FormatException)
        {
            // reported below
        }
        throw new QueryException(new QueryError("bad-cursor", 0, "游标无效", "The cursor is not one this API returned."));
    }

    /// <summary>The statement with its parameters on the context's connection, opened if it is not.</summary>
    async Task<DbCommand> CommandAsync(LianqiaoDb db, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync(ct);
        var command = connection.CreateCommand();
        command.CommandText = Sql;
        foreach (var (name, value) in Parameters) DatasetStore.AddParameter(command, name, value);
        return command;
    }

    /// <summary>The ordinal of the first stored value: after the row id, and the change feed's deleted flag and row id.</summary>
    int FirstValueOrdinal => ChangeFeed ? (RowIds ? 3 : 2) : 1;

    /// <summary>Streams the rows, masked, as the output writer pulls them.</summary>
    public async IAsyncEnumerable<object?[]> RowsAsync(LianqiaoDb db, byte[] pseudonymKey, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = await CommandAsync(db, ct);
        // Not SequentialAccess: each row arrives whole (rows are small), so the per-value reads below are plain calls, not awaits.
        await using var reader = await command.ExecuteReaderAsync(ct);
        var offset = FirstValueOrdinal;
        var firstValue = ChangeFeed ? offset : 0;
        // Resolved once per query, not per value: a page of 100 rows reads 800 values.
        var storage = StorageClasses.Select(StorageOf).ToArray();
        var masks = Masks.ToArray();
        while (await reader.ReadAsync(ct))
        {
            var row = new object?[Columns.Count];
            Last = reader.GetInt64(0);
            if (ChangeFeed)
            {
                row[0] = Last;
                row[1] = Convert.ToBoolean(reader.GetValue(1), CultureInfo.InvariantCulture);
                if (RowIds) row[2] = reader.GetInt64(2);
            }
            for (var i = 0; i < masks.Length; i++)
            {
                var raw = reader.IsDBNull(i + offset) ? null : Value(storage[i], reader.GetValue(i + offset));
                row[firstValue + i] = masks[i].Masked ? MaskingService.Apply(masks[i], raw, pseudonymKey) : raw;
            }
            yield return row;
        }
    }

    /// <summary>
    /// Opens the rows for a JSON answer: written value by value from the database reader (<see cref="JsonRows"/>), with
    /// exactly what <see cref="RowsAsync"/> and <see cref="TabularOutput.WriteValue(Utf8JsonWriter, JsonEncodedText, object?)"/> write.
    /// </summary>
    public async Task<IJsonRows> OpenJsonRowsAsync(LianqiaoDb db, byte[] pseudonymKey, CancellationToken ct)
    {
        var command = await CommandAsync(db, ct);
        try
        {
            var reader = await command.ExecuteReaderAsync(ct);
            return new JsonRows(this, command, reader, pseudonymKey);
        }
        catch
        {
            await command.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A page's rows written straight into JSON. On PostgreSQL every column has one type, so values are read with typed
    /// getters; stored text is copied as its UTF-8 bytes and written as they are, or decoded into a char buffer and masked
    /// there by <see cref="Masker.TryApply"/>: no row array, boxed value or string per cell (a page is 100 rows of 8
    /// values). Anything else (SQLite's per-value types, masking the span path does not cover, text past the buffer)
    /// takes the general path of <see cref="RowsAsync"/>.
    /// </summary>
    sealed class JsonRows : IJsonRows
    {
        enum Cell { General, Text, BigInt, Numeric, Double, Boolean, Date, Timestamp }

        readonly DataQuery query;
        readonly DbCommand command;
        readonly DbDataReader reader;
        readonly byte[] pseudonymKey;
        readonly int offset;
        readonly Storage[] storage;
        readonly Cell[] cells;
        readonly ColumnMask[] masks;
        readonly char[] masked = new char[Masker.MaxSpanLength];
        readonly char[] storedChars = new char[Masker.MaxSpanLength];
        // A stored text's UTF-8 bytes, copied from Npgsql's row buffer: no string per cell (a page held ~28 KB of them).
        readonly byte[] utf8Text = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        // A date or date-time formatted for the writer (a stack buffer made every call's frame larger).
        readonly byte[] formatted = new byte[32];

        public JsonRows(DataQuery query, DbCommand command, DbDataReader reader, byte[] pseudonymKey)
        {
            this.query = query;
            this.command = command;
            this.reader = reader;
            this.pseudonymKey = pseudonymKey;
            offset = query.FirstValueOrdinal;
            storage = query.StorageClasses.Select(StorageOf).ToArray();
            masks = query.Masks.ToArray();
            var typed = reader is Npgsql.NpgsqlDataReader;
            cells = storage.Select((s, i) => typed ? CellOf(s, reader.GetFieldType(i + offset)) : Cell.General).ToArray();
        }

        static Cell CellOf(Storage storage, Type type) => (storage, type) switch
        {
            (Storage.Text, _) when type == typeof(string) => Cell.Text,
            (Storage.BigInt, _) when type == typeof(long) => Cell.BigInt,
            (Storage.Numeric, _) when type == typeof(decimal) => Cell.Numeric,
            (Storage.Double, _) when type == typeof(double) => Cell.Double,
            (Storage.Boolean, _) when type == typeof(bool) => Cell.Boolean,
            // Npgsql 10 reports a date as DateOnly (earlier versions as DateTime): either is read as a DateOnly.
            (Storage.Date, _) when type == typeof(DateOnly) || type == typeof(DateTime) => Cell.Date,
            (Storage.Timestamp, _) when type == typeof(DateTime) => Cell.Timestamp,
            _ => Cell.General,
        };

        public async ValueTask<bool> ReadAsync(CancellationToken ct)
        {
            if (!await reader.ReadAsync(ct)) return false;
            query.Last = reader.GetInt64(0);
            return true;
        }

        public void WriteValues(Utf8JsonWriter json, JsonEncodedText[] names)
        {
            var firstValue = 0;
            if (query.ChangeFeed)
            {
                TabularOutput.WriteValue(json, names[0], query.Last);
                TabularOutput.WriteValue(json, names[1], Convert.ToBoolean(reader.GetValue(1), CultureInfo.InvariantCulture));
                if (query.RowIds) TabularOutput.WriteValue(json, names[2], reader.GetInt64(2));
                firstValue = offset;
            }
            for (var i = 0; i < cells.Length; i++)
            {
                var name = names[firstValue + i];
                var ordinal = i + offset;
                var mask = masks[i];
                if (reader.IsDBNull(ordinal)) json.WriteNull(name);
                else if (!(cells[i] == Cell.Text ? WriteText(json, name, ordinal, mask) : WriteTyped(json, name, ordinal, cells[i], mask)))
                {
                    var raw = Value(storage[i], reader.GetValue(ordinal));
                    TabularOutput.WriteValue(json, name, mask.Masked ? MaskingService.Apply(mask, raw, pseudonymKey) : raw);
                }
            }
        }

        /// <summary>
        /// Writes one non-null stored text: its UTF-8 bytes as they came (Npgsql's client encoding is always UTF-8), or
        /// decoded into a char buffer and masked there. False when the general path must write it: a value that fills the
        /// buffer (it may be longer), bytes that are not UTF-8, masking the span path does not cover.
        /// </summary>
        /// <remarks>Six of a page's eight values come here, so it stays small: no stack buffer, no span local whose address is taken.</remarks>
        bool WriteText(Utf8JsonWriter json, JsonEncodedText name, int ordinal, ColumnMask mask)
        {
            var length = (int)reader.GetBytes(ordinal, 0, utf8Text, 0, utf8Text.Length);
            var stored = new ReadOnlySpan<byte>(utf8Text, 0, length);
            if (length == utf8Text.Length || !System.Text.Unicode.Utf8.IsValid(stored)) return false;
            if (!mask.Masked)
            {
                json.WriteString(name, stored);
                return true;
            }
            // More chars than the masker's span path takes (UTF-8 never has fewer bytes than chars): TryApply would refuse it too.
            if (length > Masker.MaxSpanLength && Encoding.UTF8.GetCharCount(stored) > Masker.MaxSpanLength) return false;
            var chars = Encoding.UTF8.GetChars(stored, storedChars);
            if (!Masker.TryApply(mask.Rule, storedChars.AsSpan(0, chars), masked, pseudonymKey, out var written, out var suppressed)) return false;
            if (suppressed) json.WriteNull(name);
            else json.WriteString(name, masked.AsSpan(0, written));
            return true;
        }

        /// <summary>A stored date; typed cells exist only on PostgreSQL's reader.</summary>
        DateOnly StoredDate(int ordinal) => ((Npgsql.NpgsqlDataReader)reader).GetFieldValue<DateOnly>(ordinal);

        /// <summary>Writes one non-null value other than text with a typed read; false when the general path must write it.</summary>
        bool WriteTyped(Utf8JsonWriter json, JsonEncodedText name, int ordinal, Cell cell, ColumnMask mask)
        {
            var utf8 = formatted.AsSpan();
            if (mask.Masked)
            {
                // A stored date generalised to its year or month, as MaskingService.Apply does it.
                if (cell == Cell.Date && MaskingService.GeneralisedDateFormat(mask.Rule) is { } format)
                {
                    var date = StoredDate(ordinal);
                    if (!date.TryFormat(utf8, out var length, format, CultureInfo.InvariantCulture)) return false;
                    json.WriteString(name, utf8[..length]);
                    return true;
                }
                return false;
            }
            switch (cell)
            {
                case Cell.BigInt: json.WriteNumber(name, reader.GetInt64(ordinal)); return true;
                case Cell.Numeric: json.WriteNumber(name, reader.GetDecimal(ordinal)); return true;
                case Cell.Double: json.WriteNumber(name, reader.GetDouble(ordinal)); return true;
                case Cell.Boolean: json.WriteBoolean(name, reader.GetBoolean(ordinal)); return true;
                case Cell.Date:
                    if (!StoredDate(ordinal).TryFormat(utf8, out var dateLength, "yyyy-MM-dd", CultureInfo.InvariantCulture)) return false;
                    json.WriteString(name, utf8[..dateLength]);
                    return true;
                case Cell.Timestamp:
                    json.WriteString(name, utf8[..FormatTimestamp(reader.GetDateTime(ordinal), utf8)]);
                    return true;
                default: return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await reader.DisposeAsync();
            await command.DisposeAsync();
            System.Buffers.ArrayPool<byte>.Shared.Return(utf8Text);
        }
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss, as <see cref="TabularOutput"/> writes a stored date-time, without a format string's parsing per value.</summary>
    static int FormatTimestamp(DateTime t, Span<byte> utf8)
    {
        static void Digits(Span<byte> to, int value)
        {
            for (var i = to.Length - 1; i >= 0; i--, value /= 10) to[i] = (byte)('0' + value % 10);
        }
        Digits(utf8[..4], t.Year);
        utf8[4] = (byte)'-';
        Digits(utf8[5..7], t.Month);
        utf8[7] = (byte)'-';
        Digits(utf8[8..10], t.Day);
        utf8[10] = (byte)'T';
        Digits(utf8[11..13], t.Hour);
        utf8[13] = (byte)':';
        Digits(utf8[14..16], t.Minute);
        utf8[16] = (byte)':';
        Digits(utf8[17..19], t.Second);
        return 19;
    }

    enum Storage { Text, Boolean, BigInt, Numeric, Double, Date, Timestamp }

    static Storage StorageOf(string storageClass) => storageClass switch
    {
        "boolean" => Storage.Boolean,
        "bigint" => Storage.BigInt,
        "numeric" => Storage.Numeric,
        "double" => Storage.Double,
        "date" => Storage.Date,
        "timestamp" => Storage.Timestamp,
        _ => Storage.Text,
    };

    /// <summary>The stored value as the writers expect it; a value already of that type is passed on as it is (no second box).</summary>
    static object? Value(Storage storage, object value) => storage switch
    {
        Storage.Text when value is string => value,
        Storage.Boolean => value is bool ? value : Convert.ToBoolean(value, CultureInfo.InvariantCulture),
        Storage.BigInt => value is long ? value : Convert.ToInt64(value, CultureInfo.InvariantCulture),
        Storage.Numeric => value is decimal ? value : Convert.ToDecimal(value, CultureInfo.InvariantCulture),
        Storage.Double => value is double ? value : Convert.ToDouble(value, CultureInfo.InvariantCulture),
        Storage.Date => value switch { DateTime d => DateOnly.FromDateTime(d), DateOnly d => d, _ => DateOnly.Parse(value.ToString()!, CultureInfo.InvariantCulture) },
        Storage.Timestamp => value is DateTime ? value : value.ToString(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };
}
