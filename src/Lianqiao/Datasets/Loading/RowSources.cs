using System.Globalization;
using System.Runtime.CompilerServices;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using MiniExcelLibs;
using Sylvan.Data.Csv;

namespace Lianqiao.Datasets.Loading;

public static class LoadFormats
{
    public const string Csv = "csv";
    public const string Xlsx = "xlsx";
    public const string Json = "json";
    /// <summary>Not a file: rows handed over by code (<see cref="LoadRequest.FromRows"/>).</summary>
    public const string Rows = "rows";
    public static readonly string[] All = [Csv, Xlsx, Json];

    /// <summary>The format from an explicit name, the content type, the file name, or the first bytes.</summary>
    public static string Detect(string? explicitFormat, string? contentType, string? fileName, ReadOnlySpan<byte> head)
    {
        if (explicitFormat is { Length: > 0 })
        {
            return explicitFormat.ToLowerInvariant() switch { "ndjson" or "jsonl" => Json, var f => f };
        }
        var ext = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        if (ext is ".xlsx") return Xlsx;
        if (ext is ".json" or ".ndjson" or ".jsonl") return Json;
        if (ext is ".csv" or ".txt") return Csv;
        var type = contentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return Xlsx;
        if (type is "application/json" or "application/x-ndjson" or "application/ndjson") return Json;
        if (type is "text/csv") return Csv;
        if (head.Length >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K') return Xlsx;
        var trimmed = head.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] is (byte)'[' or (byte)'{' ? Json : Csv;
    }
}

/// <summary>A file that cannot be read as the format it claims; the load fails with this message.</summary>
internal sealed class LoadFileException(string code, string messageZh, string messageEn) : Exception(messageEn)
{
    public string Code { get; } = code;
    public string MessageZh { get; } = messageZh;
}

/// <summary>Records of a file, one at a time, as text cells in the file's column order.</summary>
internal abstract class RowSource : IDisposable
{
    public abstract IReadOnlyList<string> Header { get; }
    public abstract bool Read();
    /// <summary>Cells in the current record (may differ from the header's count in a ragged file).</summary>
    public abstract int FieldCount { get; }
    public abstract string? Get(int index);
    /// <summary>Row number as people count it: the header is row 1.</summary>
    public abstract long Line { get; }
    /// <summary>0–1, for progress bars.</summary>
    public abstract double Fraction { get; }
    /// <summary>
    /// An upper bound on <see cref="Line"/> known before reading, or null. The loader reserves this many change
    /// numbers to write an empty table directly; a source without a bound is staged first.
    /// </summary>
    public virtual long? MaxLine => null;
    public abstract void Dispose();

    public static RowSource Open(LoadRequest request, TableSchema schema) =>
        request.Source ?? (request.Rows is { } rows ? new StreamRowSource(rows) : Open(request.FilePath, request.Format, schema));

    public static RowSource Open(string path, string format, TableSchema schema) => format switch
    {
        LoadFormats.Csv => CsvRowSource.Open(path),
        LoadFormats.Xlsx => XlsxRowSource.Open(path),
        LoadFormats.Json => new JsonRowSource(path, schema),
        _ => throw new LoadFileException("unsupported-format", "不支持的文件格式", $"Unsupported format '{format}'; use csv, xlsx or json."),
    };
}

internal sealed class CsvRowSource : RowSource
{
    // A record larger than this is refused rather than buffered without bound.
    public const int MaxRecordChars = 64 * 1024 * 1024;
    readonly FileStream file;
    readonly CsvDataReader reader;
    long record = 1;

    CsvRowSource(FileStream file, CsvDataReader reader)
    {
        this.file = file;
        this.reader = reader;
        Header = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetName(i).Trim()).ToList();
    }

    public static CsvRowSource Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (file.Length == 0)
        {
            file.Dispose();
            throw new LoadFileException("empty-file", "文件为空", "The file is empty.");
        }
        try
        {
            var encoding = DetectEncoding(file);
            var text = new StreamReader(file, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            var reader = CsvDataReader.Create(text, new CsvDataReaderOptions
            {
                HasHeaders = true,
                Delimiter = ',',
                BufferSize = 1 << 16,
                MaxBufferSize = MaxRecordChars,
                // Duplicate header names are a header problem the loader reports itself.
                HeaderComparer = StringComparer.Ordinal,
            });
            if (reader.FieldCount == 0 || (reader.FieldCount == 1 && string.IsNullOrWhiteSpace(reader.GetName(0))))
                throw new LoadFileException("empty-file", "文件为空或没有表头", "The file is empty or has no header row.");
            return new CsvRowSource(file, reader);
        }
        catch (Exception ex) when (ex is DecoderFallbackException or CsvFormatException)
        {
            file.Dispose();
            throw Malformed(ex, 1);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    // An unterminated quote swallows every later line into one field: record boundaries are lost, so
    // the whole load is refused (nothing half-read is committed) rather than guessing where rows end.
    static LoadFileException Malformed(Exception ex, long record) => ex switch
    {
        DecoderFallbackException => new LoadFileException("encoding", $"文件编码无法识别（第 {record} 行附近）：请使用 UTF-8 或 GB18030",
            $"The file is not valid UTF-8 near row {record} (and its first block was not GB18030)."),
        _ => new LoadFileException("malformed-csv", $"CSV 格式错误（第 {record} 行附近）", $"The CSV is malformed near row {record}: {ex.Message}"),
    };

    /// <summary>
    /// BOM first; otherwise a file whose first 64 KB are valid UTF-8 is UTF-8 (strict: a later invalid byte
    /// fails the load instead of turning into U+FFFD), and anything else is GB18030, the superset of GBK.
    /// </summary>
    internal static Encoding DetectEncoding(FileStream file)
    {
        Span<byte> head = stackalloc byte[65536];
        var n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        head = head[..n];
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return new UTF8Encoding(false, true);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return Encoding.Unicode;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return Encoding.BigEndianUnicode;
        return IsUtf8(head, atEnd: n < 65536) ? new UTF8Encoding(false, true) : Encoding.GetEncoding("GB18030");
    }

    static bool IsUtf8(ReadOnlySpan<byte> bytes, bool atEnd)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false, isFinalBlock: atEnd);
        // A sample cut inside a multi-byte character ends "needs more data", which is still UTF-8.
        return status == System.Buffers.OperationStatus.Done || (status == System.Buffers.OperationStatus.NeedMoreData && bytes.Length - read < 4);
    }

    public override IReadOnlyList<string> Header { get; }
    public override int FieldCount => reader.RowFieldCount;
    public override long Line => record;
    public override double Fraction => file.Length == 0 ? 1 : (double)file.Position / file.Length;
    // Every record takes at least one byte (its line break), so there are no more lines than bytes.
    public override long? MaxLine => file.Length + 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool Read()
    {
        try
        {
            var more = reader.Read();
            if (more) record++;
            return more;
        }
        catch (Exception ex) when (ex is DecoderFallbackException or CsvFormatException)
        {
            throw Malformed(ex, record + 1);
        }
    }

    public override string? Get(int index) => reader.GetString(index);

    public override void Dispose()
    {
        reader.Dispose();
        file.Dispose();
    }
}

internal sealed class XlsxRowSource : RowSource
{
    /// <summary>Refuse archives that expand beyond this, or by more than <see cref="MaxRatio"/> per entry.</summary>
    public const long MaxUncompressed = 4L * 1024 * 1024 * 1024;
    public const int MaxRatio = 200;
    readonly IEnumerator<IDictionary<string, object?>> rows;
    readonly string[] columns;
    readonly long total;
    long line = 1;
    IDictionary<string, object?>? current;

    XlsxRowSource(IEnumerator<IDictionary<string, object?>> rows, string[] columns, IReadOnlyList<string> header, long total)
    {
        this.rows = rows;
        this.columns = columns;
        this.total = total;
        Header = header;
    }

    public static XlsxRowSource Open(string path)
    {
        var total = GuardAgainstZipBomb(path);
        IEnumerator<IDictionary<string, object?>> rows;
        try
        {
            rows = MiniExcel.Query(path, useHeaderRow: false, excelType: ExcelType.XLSX)
                .Cast<IDictionary<string, object?>>().GetEnumerator();
            if (!rows.MoveNext()) throw new LoadFileException("empty-file", "工作表为空", "The first sheet is empty.");
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or System.Xml.XmlException)
        {
            throw new LoadFileException("malformed-xlsx", "XLSX 文件无法读取", "The XLSX file cannot be read: " + ex.Message);
        }
        var headerRow = rows.Current;
        var columns = headerRow.Keys.ToArray();
        var header = columns.Select(c => Cell(headerRow[c])?.Trim() ?? "").ToList();
        // Trailing empty header cells are formatting, not columns.
        while (header.Count > 0 && header[^1].Length == 0) header.RemoveAt(header.Count - 1);
        return new XlsxRowSource(rows, columns[..header.Count], header, total);
    }

    /// <summary>
    /// Declared sizes are checked first; then every entry is inflated into nowhere with a cap, because a
    /// crafted archive can declare small sizes and still expand without bound.
    /// </summary>
    static long GuardAgainstZipBomb(string path)
    {
        static LoadFileException Bomb() => new("zip-bomb", "XLSX 文件解压后过大，已拒绝", "The XLSX expands to far more than its size; refused as a possible zip bomb.");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            long declared = 0;
            foreach (var e in zip.Entries)
            {
                declared += e.Length;
                if (declared > MaxUncompressed || (e.Length > 1 << 20 && e.Length > (long)Math.Max(1, e.CompressedLength) * MaxRatio)) throw Bomb();
            }
            var buffer = new byte[81920];
            foreach (var e in zip.Entries)
            {
                var cap = Math.Min(MaxUncompressed, Math.Max(1 << 20, e.CompressedLength * (long)MaxRatio));
                using var s = e.Open();
                long read = 0;
                int n;
                while ((n = s.Read(buffer)) > 0)
                {
                    read += n;
                    if (read > cap) throw Bomb();
                }
            }
            return declared;
        }
        catch (InvalidDataException ex)
        {
            throw new LoadFileException("malformed-xlsx", "XLSX 文件不是有效的压缩包", "The file is not a valid XLSX (zip) archive: " + ex.Message);
        }
    }

    static string? Cell(object? value) => value switch
    {
        null => null,
        string s => s,
        DateTime d => d.ToString(d.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    public override IReadOnlyList<string> Header { get; }
    public override int FieldCount => current is null ? 0 : current.Count(kv => kv.Value is not null && Array.IndexOf(columns, kv.Key) < 0) > 0 ? columns.Length + 1 : columns.Length;
    public override long Line => line;
    public override double Fraction => 0;

    public override bool Read()
    {
        while (rows.MoveNext())
        {
            line++;
            current = rows.Current;
            // Empty rows in a sheet are layout; they are not records.
            if (current.Values.Any(v => v is not null && (v is not string s || s.Length > 0))) return true;
        }
        current = null;
        return false;
    }

    public override string? Get(int index) => index < columns.Length && current!.TryGetValue(columns[index], out var v) ? Cell(v) : null;

    public override void Dispose() => rows.Dispose();
}

/// <summary>A JSON array of objects, or NDJSON (one object per line): properties are matched to columns by name.</summary>
internal sealed class JsonRowSource : RowSource
{
    readonly FileStream file;
    readonly IEnumerator<JsonElement> elements;
    readonly Dictionary<string, int> index;
    readonly string?[] values;
    long line;

    public JsonRowSource(string path, TableSchema schema)
    {
        Header = schema.Columns.Select(c => c.Column).ToList();
        index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            index.TryAdd(schema.Columns[i].Column, i);
            index.TryAdd(schema.Columns[i].Name, i);
        }
        values = new string?[Header.Count];
        file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var first = FirstByte(file);
        if (first < 0)
        {
            file.Dispose();
            throw new LoadFileException("empty-file", "文件为空", "The file is empty.");
        }
        // An array streams element by element; otherwise the file is a sequence of top-level values (NDJSON).
        elements = (first == '['
            ? JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(file)
            : JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(file, topLevelValues: true))
            .ToBlockingEnumerable().GetEnumerator();
    }

    static int FirstByte(FileStream file)
    {
        int b;
        // Skip a BOM and whitespace.
        while ((b = file.ReadByte()) is 0xEF or 0xBB or 0xBF or ' ' or '\t' or '\r' or '\n') { }
        file.Position = 0;
        return b;
    }

    public override IReadOnlyList<string> Header { get; }
    public override int FieldCount => Header.Count;
    public override long Line => line;
    public override double Fraction => file.Length == 0 ? 1 : (double)file.Position / file.Length;
    // Every value takes at least one byte, so there are no more records than bytes.
    public override long? MaxLine => file.Length + 1;

    public override bool Read()
    {
        try
        {
            if (!elements.MoveNext()) return false;
        }
        catch (JsonException ex)
        {
            throw new LoadFileException("malformed-json", "JSON 格式错误", $"The JSON is malformed after record {line}: {ex.Message}");
        }
        line++;
        Array.Clear(values);
        var e = elements.Current;
        if (e.ValueKind != JsonValueKind.Object) return true;
        foreach (var p in e.EnumerateObject())
        {
            if (!index.TryGetValue(p.Name, out var i)) continue;
            values[i] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => p.Value.GetRawText(),
            };
        }
        return true;
    }

    public override string? Get(int index) => values[index];

    public override void Dispose()
    {
        elements.Dispose();
        file.Dispose();
    }
}

/// <summary>Rows handed over by code, e.g. an exchange connector reading another database.</summary>
/// <param name="Header">Column names, matched to the resource's data items like a file's header.</param>
/// <param name="Rows">One array per row, cells in header order as text (null for a missing value).</param>
/// <param name="MaxRows">An upper bound on the number of rows, if known: lets a load into an empty table write directly.</param>
internal sealed record RowStream(IReadOnlyList<string> Header, IAsyncEnumerable<string?[]> Rows, long? MaxRows = null);

/// <summary>A <see cref="RowStream"/> as a row source; line numbers count the header as line 1, like a file's.</summary>
internal sealed class StreamRowSource(RowStream stream) : RowSource
{
    // The loader reads synchronously on its own thread; waiting here for the next row is what streaming means.
    readonly IEnumerator<string?[]> rows = stream.Rows.ToBlockingEnumerable().GetEnumerator();
    string?[] current = [];
    long line = 1;

    public override IReadOnlyList<string> Header => stream.Header;
    public override int FieldCount => current.Length;
    public override long Line => line;
    public override double Fraction => stream.MaxRows is > 0 and var max ? Math.Min(1, (double)(line - 1) / max) : 0;
    public override long? MaxLine => stream.MaxRows + 1;

    public override bool Read()
    {
        if (!rows.MoveNext()) return false;
        current = rows.Current;
        line++;
        return true;
    }

    public override string? Get(int index) => index < current.Length ? current[index] : null;

    public override void Dispose() => rows.Dispose();
}
