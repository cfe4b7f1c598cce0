using System.Text;
using System.Text.Json;
using Lianqiao.Output;
using MiniExcelLibs;
using Xunit;

namespace Lianqiao.Tests.Output;

public sealed class TabularOutputTests
{
    static readonly OutputColumn[] Columns =
    [
        new("name", "姓名", OutputType.Text), new("age", "年龄", OutputType.Integer), new("score", "分数", OutputType.Number),
    ];

    static async IAsyncEnumerable<object?[]> Rows(params object?[][] rows)
    {
        foreach (var r in rows)
        {
            await Task.Yield();
            yield return r;
        }
    }

    static async Task<(string Text, byte[] Bytes, long Count)> RenderAsync(OutputFormat format, bool bom = false, params object?[][] rows)
    {
        using var stream = new MemoryStream();
        var count = await TabularOutput.WriteAsync(stream, format, Columns, Rows(rows), default, bom);
        return (Encoding.UTF8.GetString(stream.ToArray()), stream.ToArray(), count);
    }

    [Fact]
    public async Task Csv_neutralises_formula_injection_in_every_dangerous_prefix()
    {
        var (text, _, count) = await RenderAsync(OutputFormat.Csv, false,
            ["=HYPERLINK(\"http://x\")", 1L, 1.5], ["+1", 2L, null], ["-2", 3L, 2.0], ["@SUM(A1)", 4L, 3.0], ["张三, \"李\"", null, 0.0]);
        Assert.Equal(5, count);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length > 1 ? text.Split("\r\n") : text.Split('\n');
        Assert.Equal("name,age,score", lines[0]);
        Assert.StartsWith("\"'=HYPERLINK(\"\"http://x\"\")\",1,1.5", lines[1]);
        Assert.Equal("'+1,2,", lines[2]);
        Assert.Equal("'-2,3,2", lines[3]);
        Assert.Equal("'@SUM(A1),4,3", lines[4]);
        Assert.Equal("\"张三, \"\"李\"\"\",,0", lines[5]);
    }

    [Fact]
    public async Task Csv_bom_is_written_only_when_asked_for()
    {
        var (_, withBom, _) = await RenderAsync(OutputFormat.Csv, true, ["a", 1L, 1.0]);
        var (_, without, _) = await RenderAsync(OutputFormat.Csv, false, ["a", 1L, 1.0]);
        Assert.Equal([0xEF, 0xBB, 0xBF], withBom[..3]);
        Assert.NotEqual(0xEF, without[0]);
    }

    [Fact]
    public async Task Json_and_ndjson_carry_chinese_as_characters()
    {
        var (json, _, _) = await RenderAsync(OutputFormat.Json, false, ["王五", 30L, 9.5]);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("王五", doc.RootElement.GetProperty("rows")[0].GetProperty("name").GetString());
        Assert.Contains("王五", json);
        var (ndjson, _, count) = await RenderAsync(OutputFormat.Ndjson, false, ["a", 1L, 1.0], ["b", 2L, null]);
        Assert.Equal(2, count);
        var lines = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(lines[1]).RootElement.GetProperty("score").ValueKind);
    }

    [Fact]
    public async Task Parquet_round_trips_types_and_nulls()
    {
        var (_, bytes, count) = await RenderAsync(OutputFormat.Parquet, false, ["甲", 1L, 1.5], [null, null, null], ["丙", 3L, 2.5]);
        Assert.Equal(3, count);
        var rows = (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<ParquetRow>(new MemoryStream(bytes))).Data;
        Assert.Equal(new[] { "甲", null, "丙" }, rows.Select(r => r.name));
        Assert.Equal([1L, null, 3L], rows.Select(r => r.age).ToArray());
        Assert.Equal([1.5, null, 2.5], rows.Select(r => r.score).ToArray());
    }

    [Fact]
    public async Task Parquet_splits_a_long_export_into_row_groups_and_keeps_every_row()
    {
        const int n = 120_000;   // more than two row groups
        var rows = Enumerable.Range(0, n).Select(i => new object?[] { i % 7 == 0 ? null : "行" + i, (long)i, i / 2.0 }).ToArray();
        var (_, bytes, count) = await RenderAsync(OutputFormat.Parquet, false, rows);
        Assert.Equal(n, count);
        await using var reader = await Parquet.ParquetReader.CreateAsync(new MemoryStream(bytes));
        Assert.True(reader.RowGroupCount >= 3, $"{reader.RowGroupCount} row groups");
        var read = (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<ParquetRow>(new MemoryStream(bytes))).Data;
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long?)i), read.Select(r => r.age));
        Assert.Equal(Enumerable.Range(0, n).Select(i => i % 7 == 0 ? null : "行" + i), read.Select(r => r.name));
    }

    [Fact]
    public async Task Xlsx_round_trips_and_guards_formulas()
    {
        var (_, bytes, count) = await RenderAsync(OutputFormat.Xlsx, false, ["=1+1", 1L, 1.5], ["乙", 2L, 2.5]);
        Assert.Equal(2, count);
        var rows = new MemoryStream(bytes).Query(useHeaderRow: true).Cast<IDictionary<string, object?>>().ToList();
        Assert.Equal("'=1+1", rows[0]["name"]?.ToString());
        Assert.Equal("乙", rows[1]["name"]?.ToString());
    }

#pragma warning disable IDE1006 // Parquet column names are the consumer's lower-case column names.
    public sealed class ParquetRow
    {
        public string? name { get; set; }
        public long? age { get; set; }
        public double? score { get; set; }
    }
#pragma warning restore IDE1006
}
