using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MiniExcelLibs;
using Parquet;
using Parquet.Schema;

namespace Lianqiao.Output;

public enum OutputFormat { Json, Ndjson, Csv, Xlsx, Parquet }

public enum OutputType { Text, Integer, Number, Boolean, Date, DateTime }

/// <summary>One column of a tabular answer, as the consumer sees it (after projection and masking).</summary>
public sealed record OutputColumn(string Name, string Label, OutputType Type);

/// <summary>Rows read one at a time that write their own values into a JSON object (no row array, no boxed value per cell).</summary>
public interface IJsonRows : IAsyncDisposable
{
    ValueTask<bool> ReadAsync(CancellationToken ct);

    /// <summary>Writes the current row's values, each after its name in <paramref name="names"/> (the columns' order).</summary>
    void WriteValues(Utf8JsonWriter json, JsonEncodedText[] names);
}

/// <summary>
/// Streams rows as JSON, NDJSON, CSV, XLSX or Parquet for every way tabular data leaves (data API, downloads, open portal,
/// quarantine export). JSON, NDJSON and CSV go straight to the response; XLSX and Parquet are zip/footer formats that need a
/// seekable stream, so they are spooled to a temp file first: memory stays flat either way.
/// </summary>
public static class TabularOutput
{
    public static bool TryParse(string? value, out OutputFormat format)
    {
        format = OutputFormat.Json;
        return string.IsNullOrEmpty(value) || Enum.TryParse(value, ignoreCase: true, out format);
    }

    public static string ContentType(OutputFormat format) => format switch
    {
        OutputFormat.Ndjson => "application/x-ndjson; charset=utf-8",
        OutputFormat.Csv => "text/csv; charset=utf-8",
        OutputFormat.Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        OutputFormat.Parquet => "application/vnd.apache.parquet",
        _ => "application/json; charset=utf-8",
    };

    public static string Extension(OutputFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>Writes every row; returns the number written. <paramref name="envelope"/> adds fields around a JSON array (cursors, counts).</summary>
    public static async Task<long> WriteAsync(Stream output, OutputFormat format, IReadOnlyList<OutputColumn> columns,
        IAsyncEnumerable<object?[]> rows, CancellationToken ct, bool csvBom = false, Func<long, IReadOnlyDictionary<string, object?>>? envelope = null)
    {
        switch (format)
        {
            case OutputFormat.Csv: return await WriteCsvAsync(output, columns, rows, csvBom, ct);
            case OutputFormat.Ndjson: return await WriteJsonAsync(output, columns, rows, lines: true, null, ct);
            case OutputFormat.Xlsx: return await SpoolAsync(output, (file, c) => WriteXlsxAsync(file, columns, rows, c), ct);
            case OutputFormat.Parquet: return await SpoolAsync(output, (file, c) => WriteParquetAsync(file, columns, rows, c), ct);
            default: return await WriteJsonAsync(output, columns, rows, lines: false, envelope, ct);
        }
    }

    static async Task<long> WriteJsonAsync(Stream output, IReadOnlyList<OutputColumn> columns, IAsyncEnumerable<object?[]> rows, bool lines,
        Func<long, IReadOnlyDictionary<string, object?>>? envelope, CancellationToken ct)
    {
        await using var arrays = new ArrayRows(rows, ct);
        return await WriteJsonAsync(output, columns, arrays, lines, envelope, ct);
    }

    /// <summary>
    /// Writes rows that write their own values as one JSON answer ({"rows":[…], envelope…}); returns the number written.
    /// Used by the data API's pages, which read typed values from the database and mask them straight into the writer.
    /// </summary>
    public static Task<long> WriteJsonAsync(Stream output, IReadOnlyList<OutputColumn> columns, IJsonRows rows,
        Func<long, IReadOnlyDictionary<string, object?>>? envelope, CancellationToken ct) =>
        WriteJsonAsync(output, columns, rows, lines: false, envelope, ct);

    static async Task<long> WriteJsonAsync(Stream output, IReadOnlyList<OutputColumn> columns, IJsonRows rows, bool lines,
        Func<long, IReadOnlyDictionary<string, object?>>? envelope, CancellationToken ct)
    {
        // Rented, not grown: a 100-row page is 20–30 KB, and growing a fresh 8 KB buffer cost two copies and three arrays per answer.
        using var buffer = new PooledBufferWriter(64 * 1024);
        var options = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = lines };
        await using var json = new Utf8JsonWriter(buffer, options);
        // Property names are escaped once per answer, not once per value.
        var names = columns.Select(c => JsonEncodedText.Encode(c.Name, options.Encoder)).ToArray();
        long count = 0;
        if (!lines)
        {
            json.WriteStartObject();
            json.WriteStartArray("rows");
        }
        while (await rows.ReadAsync(ct))
        {
            json.WriteStartObject();
            rows.WriteValues(json, names);
            json.WriteEndObject();
            count++;
            if (lines)
            {
                await json.FlushAsync(ct);
                buffer.Write("\n"u8);
                json.Reset(buffer);   // each line is its own JSON document: no separating comma
            }
            if (buffer.WrittenCount > 48 * 1024) await FlushAsync(json, buffer, output, ct);
        }
        if (!lines)
        {
            json.WriteEndArray();
            foreach (var (key, value) in envelope?.Invoke(count) ?? new Dictionary<string, object?>())
            {
                json.WritePropertyName(key);
                if (value is null or string or long) WriteValue(json, value);
                else JsonSerializer.Serialize(json, value);
            }
            json.WriteEndObject();
        }
        await FlushAsync(json, buffer, output, ct);
        return count;
    }

    static async Task FlushAsync(Utf8JsonWriter json, PooledBufferWriter buffer, Stream output, CancellationToken ct)
    {
        await json.FlushAsync(ct);
        await output.WriteAsync(buffer.WrittenMemory, ct);
        buffer.ResetWrittenCount();
        json.Reset(buffer);
    }

    /// <summary>Rows as arrays of values, written through <see cref="WriteValue(Utf8JsonWriter, JsonEncodedText, object?)"/>.</summary>
    sealed class ArrayRows(IAsyncEnumerable<object?[]> rows, CancellationToken ct) : IJsonRows
    {
        readonly IAsyncEnumerator<object?[]> enumerator = rows.GetAsyncEnumerator(ct);

        public ValueTask<bool> ReadAsync(CancellationToken cancellationToken) => enumerator.MoveNextAsync();

        public void WriteValues(Utf8JsonWriter json, JsonEncodedText[] names)
        {
            var row = enumerator.Current;
            for (var i = 0; i < names.Length; i++) WriteValue(json, names[i], row[i]);
        }

        public ValueTask DisposeAsync() => enumerator.DisposeAsync();
    }

    /// <summary>One property of a row: every JSON writer of tabular values goes through here, so all write a value alike.</summary>
    public static void WriteValue(Utf8JsonWriter json, JsonEncodedText name, object? value)
    {
        json.WritePropertyName(name);
        WriteValue(json, value);
    }

    static void WriteValue(Utf8JsonWriter json, object? value)
    {
        Span<char> text = stackalloc char[40];
        switch (value)
        {
            case null or DBNull: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case long l: json.WriteNumberValue(l); break;
            case int n: json.WriteNumberValue(n); break;
            case decimal m: json.WriteNumberValue(m); break;
            case double d: json.WriteNumberValue(d); break;
            case DateOnly d when d.TryFormat(text, out var n, "yyyy-MM-dd", CultureInfo.InvariantCulture): json.WriteStringValue(text[..n]); break;
            case DateTime t when t.TryFormat(text, out var n, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture): json.WriteStringValue(text[..n]); break;
            case DateTimeOffset t: json.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            default: json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over one array from the shared pool, returned when the answer is written.</summary>
    sealed class PooledBufferWriter(int capacity) : IBufferWriter<byte>, IDisposable
    {
        byte[] array = ArrayPool<byte>.Shared.Rent(capacity);

        public int WrittenCount { get; private set; }

        public ReadOnlyMemory<byte> WrittenMemory => array.AsMemory(0, WrittenCount);

        public void ResetWrittenCount() => WrittenCount = 0;

        public void Advance(int count) => WrittenCount += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(WrittenCount);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(WrittenCount);

        byte[] Ensure(int sizeHint)
        {
            if (array.Length - WrittenCount >= Math.Max(sizeHint, 1)) return array;
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(array.Length * 2, WrittenCount + sizeHint));
            array.AsSpan(0, WrittenCount).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(array);
            return array = larger;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(array);
    }

    /// <summary>Text for CSV and spreadsheets: cells starting with = + - @ (or a tab/CR) get a leading apostrophe so spreadsheets never run them as formulas.</summary>
    public static string SafeCell(string text) =>
        text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    static string Text(object? value) => value switch
    {
        null or DBNull => "",
        string s => SafeCell(s),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => SafeCell(value.ToString() ?? ""),
    };

    static async Task<long> WriteCsvAsync(Stream output, IReadOnlyList<OutputColumn> columns, IAsyncEnumerable<object?[]> rows, bool bom, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(bom), 64 * 1024, leaveOpen: true);
        await writer.WriteLineAsync(string.Join(',', columns.Select(c => Quote(c.Name))));
        long count = 0;
        // Rows are gathered into chunks of about 16K characters and each chunk is written with one await (one per row cost
        // more than the formatting); StreamWriter's own buffer cannot be used, as a synchronous flush is not allowed.
        var chunk = new StringBuilder(32 * 1024);
        await foreach (var row in rows.WithCancellation(ct))
        {
            for (var i = 0; i < columns.Count; i++)
            {
                if (i > 0) chunk.Append(',');
                AppendQuoted(chunk, Text(row[i]));
            }
            chunk.Append(writer.NewLine);
            count++;
            if (chunk.Length >= 16 * 1024)
            {
                await writer.WriteAsync(chunk, ct);
                chunk.Clear();
            }
        }
        await writer.WriteAsync(chunk, ct);
        await writer.FlushAsync(ct);
        return count;
    }

    static void AppendQuoted(StringBuilder sb, string text)
    {
        if (text.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            sb.Append(text);
            return;
        }
        sb.Append('"');
        foreach (var c in text)
        {
            if (c == '"') sb.Append('"');
            sb.Append(c);
        }
        sb.Append('"');
    }

    static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    static async Task<long> SpoolAsync(Stream output, Func<Stream, CancellationToken, Task<long>> write, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), "lianqiao-" + Guid.NewGuid().ToString("N"));
        try
        {
            long count;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                count = await write(file, ct);
                file.Position = 0;
                await file.CopyToAsync(output, ct);
            }
            return count;
        }
        finally
        {
            File.Delete(path);
        }
    }

    static async Task<long> WriteXlsxAsync(Stream file, IReadOnlyList<OutputColumn> columns, IAsyncEnumerable<object?[]> rows, CancellationToken ct)
    {
        long count = 0;
        // MiniExcel pulls rows lazily from a synchronous enumerable; the async source is drained one row at a time.
        IEnumerable<Dictionary<string, object?>> Rows()
        {
            var e = rows.GetAsyncEnumerator(ct);
            try
            {
                while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                {
                    var row = new Dictionary<string, object?>(columns.Count);
                    for (var i = 0; i < columns.Count; i++) row[columns[i].Name] = e.Current[i] is string s ? SafeCell(s) : e.Current[i];
                    count++;
                    yield return row;
                }
            }
            finally
            {
                e.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        await Task.Run(() => file.SaveAs(Rows(), printHeader: true), ct);
        return count;
    }

    /// <summary>
    /// A Parquet row group closes at this many rows or at about <see cref="ParquetGroupBytes"/> of values, whichever comes
    /// first: the export holds one group in memory, whatever the row count, and the writer keeps only its footer entry.
    /// At 50,000 rows a 1M-row export's peak was +16..+30 MB over the server's resting size, at 20,000 +9..+10 MB (bench/export).
    /// </summary>
    const int ParquetGroupRows = 20_000;
    const long ParquetGroupBytes = 4 << 20;

    /// <summary>
    /// Parquet.Net keeps the buffers of its column writers in one process-wide pool that by default holds on to 16 MB of
    /// small and 64 MB of large free buffers: after the first export the server stayed ~80 MB larger (bench/export). A
    /// group's column chunk is a few MB, so a small pool still reuses it. Dictionary encoding is decided on a sample: the
    /// default scans every value of a column first, and most exported columns (ids, names, phones) are unique.
    /// </summary>
    static readonly ParquetOptions ParquetWriting = new()
    {
        MaximumSmallPoolFreeBytes = 4 << 20,
        MaximumLargePoolFreeBytes = 8 << 20,
        DictionaryEncodingSampleSize = 1000,
    };

    static async Task<long> WriteParquetAsync(Stream file, IReadOnlyList<OutputColumn> columns, IAsyncEnumerable<object?[]> rows, CancellationToken ct)
    {
        var fields = columns.Select(c => (DataField)(c.Type switch
        {
            OutputType.Integer => new DataField<long?>(c.Name),
            OutputType.Number => new DataField<double?>(c.Name),
            OutputType.Boolean => new DataField<bool?>(c.Name),
            _ => new DataField<string?>(c.Name),
        })).ToArray();
        var schema = new ParquetSchema(fields);
        await using var writer = await ParquetWriter.CreateAsync(schema, file, ParquetWriting, cancellationToken: ct);
        var group = new ParquetGroup(columns);
        long count = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            group.Add(row);
            if (group.Rows == ParquetGroupRows || group.Bytes >= ParquetGroupBytes) count += await group.WriteAsync(writer, fields, ct);
        }
        if (group.Rows > 0 || count == 0) count += await group.WriteAsync(writer, fields, ct);
        return count;
    }

    /// <summary>
    /// The open row group as one typed buffer per column, reused for every group: each row is copied in and dropped at
    /// once, so nothing per row outlives its group and no row list is kept beside the column arrays.
    /// </summary>
    sealed class ParquetGroup(IReadOnlyList<OutputColumn> columns)
    {
        readonly Array[] buffers = columns.Select(c => c.Type switch
        {
            OutputType.Integer => (Array)new long?[ParquetGroupRows],
            OutputType.Number => new double?[ParquetGroupRows],
            OutputType.Boolean => new bool?[ParquetGroupRows],
            _ => new string[ParquetGroupRows],
        }).ToArray();

        public int Rows { get; private set; }

        /// <summary>An estimate of the group's value bytes (text as UTF-16, 8 per other value).</summary>
        public long Bytes { get; private set; }

        public void Add(object?[] row)
        {
            for (var c = 0; c < buffers.Length; c++)
            {
                var value = row[c] is DBNull ? null : row[c];
                switch (buffers[c])
                {
                    case long?[] longs: longs[Rows] = value is null ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture); Bytes += 8; break;
                    case double?[] doubles: doubles[Rows] = value is null ? null : Convert.ToDouble(value, CultureInfo.InvariantCulture); Bytes += 8; break;
                    case bool?[] bools: bools[Rows] = value is null ? null : Convert.ToBoolean(value, CultureInfo.InvariantCulture); Bytes += 8; break;
                    case string[] texts:
                        var text = value is null ? null : Text(value);
                        texts[Rows] = text!;
                        Bytes += 2 * (text?.Length ?? 0) + 8;
                        break;
                }
            }
            Rows++;
        }

        public async Task<long> WriteAsync(ParquetWriter writer, DataField[] fields, CancellationToken ct)
        {
            using (var group = writer.CreateRowGroup())
            {
                for (var c = 0; c < buffers.Length; c++)
                {
                    switch (buffers[c])
                    {
                        case long?[] longs: await group.WriteAsync<long>(fields[c], longs.AsMemory(0, Rows), null, null, ct); break;
                        case double?[] doubles: await group.WriteAsync<double>(fields[c], doubles.AsMemory(0, Rows), null, null, ct); break;
                        case bool?[] bools: await group.WriteAsync<bool>(fields[c], bools.AsMemory(0, Rows), null, null, ct); break;
                        case string[] texts: await group.WriteAsync(fields[c], new ArraySegment<string>(texts, 0, Rows), null); break;
                    }
                }
            }
            var written = Rows;
            // Let go of this group's strings now rather than when the next group overwrites them.
            foreach (var buffer in buffers) Array.Clear(buffer, 0, written);
            Rows = 0;
            Bytes = 0;
            return written;
        }
    }
}
