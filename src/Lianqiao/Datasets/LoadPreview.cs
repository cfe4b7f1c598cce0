using Lianqiao.Datasets.Loading;

namespace Lianqiao.Datasets;

/// <summary>The wizard's look at a staged file before it loads: format, encoding, header and first rows.</summary>
internal sealed record LoadPreview(string Format, string? Encoding, IReadOnlyList<string> Header, IReadOnlyList<string?[]> Rows, string? Error)
{
    public const int PreviewRows = 10;
    const int MaxCellChars = 200;

    public static LoadPreview Read(StagedUpload staged, TableSchema schema)
    {
        string? encoding = null;
        try
        {
            if (staged.Format == LoadFormats.Csv) encoding = EncodingOf(staged.Path);
            using var source = RowSource.Open(staged.Path, staged.Format, schema);
            var header = source.Header.Select(h => h.Trim().TrimStart('\uFEFF')).ToList();
            var rows = new List<string?[]>();
            while (rows.Count < PreviewRows && source.Read())
            {
                var row = new string?[Math.Max(source.FieldCount, header.Count)];
                for (var i = 0; i < source.FieldCount; i++)
                {
                    var v = source.Get(i);
                    row[i] = v is { Length: > MaxCellChars } ? v[..MaxCellChars] + "…" : v;
                }
                rows.Add(row);
            }
            return new LoadPreview(staged.Format, encoding, header, rows, null);
        }
        catch (LoadFileException ex)
        {
            return new LoadPreview(staged.Format, encoding, [], [], $"{ex.MessageZh} / {ex.Message}");
        }
    }

    /// <summary>How the loader will read the bytes, said the way a steward recognises it.</summary>
    static string EncodingOf(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> bom = stackalloc byte[3];
        var n = file.ReadAtLeast(bom, 3, throwOnEndOfStream: false);
        file.Position = 0;
        if (n == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF) return "UTF-8（带 BOM / with BOM）";
        return CsvRowSource.DetectEncoding(file).WebName.ToUpperInvariant() switch
        {
            "UTF-8" => "UTF-8",
            "GB18030" => "GB18030（兼容 GBK / GBK-compatible）",
            var other => other,
        };
    }

    /// <summary>The schema column a file header names (column name or item name, as the loader matches it); null when none.</summary>
    public static string? Suggest(string header, TableSchema schema) =>
        schema.Columns.FirstOrDefault(c => string.Equals(c.Column, header, StringComparison.OrdinalIgnoreCase) || c.Name == header)?.Column;

    /// <summary>
    /// The loader's column map from the steward's choices (one per file column), or every problem with them at once:
    /// undecided columns, unknown or repeated targets, and required or key items nothing maps to.
    /// </summary>
    public static (Dictionary<string, string> Map, List<string> Problems) Mapping(IReadOnlyList<string> header, IReadOnlyList<string> chosen,
        TableSchema schema, bool deleting)
    {
        var problems = new List<string>();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (chosen.Count != header.Count)
            return (map, [$"映射有 {chosen.Count} 项，文件有 {header.Count} 列 / {chosen.Count} choices for {header.Count} file columns"]);
        var columns = schema.Columns.ToDictionary(c => c.Column, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++)
        {
            var h = header[i];
            var target = chosen[i];
            if (target == DatasetPages.Undecided) problems.Add($"第 {i + 1} 列「{h}」未选择信息项 / column {i + 1} ({h}) is not mapped");
            else if (target != DatasetPages.Ignore && !columns.ContainsKey(target)) problems.Add($"第 {i + 1} 列选择了未知的信息项 {target} / column {i + 1} maps to an unknown item");
            else if (target != DatasetPages.Ignore && !used.Add(target)) problems.Add($"信息项 {target} 被多列选择 / {target} is chosen for more than one column");
            else if (!map.TryAdd(h, target)) problems.Add($"文件表头「{h}」重复 / the file header {h} repeats");
        }
        var needed = schema.Columns.Where(c => deleting ? c.Key : c.Required || c.Key).Where(c => !used.Contains(c.Column)).Select(c => $"{c.Name}（{c.Column}）").ToList();
        if (needed.Count > 0) problems.Add($"必填信息项没有对应的列：{string.Join("、", needed)} / required items without a column: {string.Join(", ", needed)}");
        return (map, problems);
    }
}
