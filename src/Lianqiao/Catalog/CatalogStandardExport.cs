using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using MiniExcelLibs;

namespace Lianqiao.Catalog;

/// <summary>信息资源分类: 类/项/目/细目 with their codes and labels.</summary>
public sealed record StandardClassification(
    [property: JsonPropertyName("分类代码")] string Code,
    [property: JsonPropertyName("类")] string Class,
    [property: JsonPropertyName("项")] string Subject,
    [property: JsonPropertyName("目")] string Catalog,
    [property: JsonPropertyName("细目")] string Detail,
    [property: JsonPropertyName("名称")] string Label);

public sealed record StandardFormat(
    [property: JsonPropertyName("格式分类")] string Category,
    [property: JsonPropertyName("格式类型")] string Type);

public sealed record StandardItem(
    [property: JsonPropertyName("信息项名称")] string Name,
    [property: JsonPropertyName("数据类型")] string DataType,
    [property: JsonPropertyName("数据长度")] int? Length);

public sealed record StandardShare(
    [property: JsonPropertyName("共享类型")] string Type,
    [property: JsonPropertyName("共享条件")] string? Condition,
    [property: JsonPropertyName("共享方式分类")] string? MethodClass,
    [property: JsonPropertyName("共享方式类型")] string? MethodType,
    [property: JsonPropertyName("不予共享依据")] string? NotSharedBasis);

public sealed record StandardOpen(
    [property: JsonPropertyName("是否向社会开放")] string Open,
    [property: JsonPropertyName("开放类型")] string Type,
    [property: JsonPropertyName("开放条件")] string? Condition);

/// <summary>One resource under the 13 core metadata elements of the catalog guide (standards.md §1), for the provincial platform.</summary>
public sealed record StandardResource(
    [property: JsonPropertyName("信息资源分类")] StandardClassification Classification,
    [property: JsonPropertyName("信息资源名称")] string Name,
    [property: JsonPropertyName("信息资源代码")] string Code,
    [property: JsonPropertyName("信息资源提供方")] string Provider,
    [property: JsonPropertyName("信息资源提供方代码")] string ProviderCode,
    [property: JsonPropertyName("信息资源摘要")] string Summary,
    [property: JsonPropertyName("信息资源格式")] StandardFormat Format,
    [property: JsonPropertyName("信息项信息")] IReadOnlyList<StandardItem> Items,
    [property: JsonPropertyName("共享属性")] StandardShare Share,
    [property: JsonPropertyName("开放属性")] StandardOpen Open,
    [property: JsonPropertyName("更新周期")] string UpdateCycle,
    [property: JsonPropertyName("发布日期")] string? PublishDate,
    [property: JsonPropertyName("关联资源代码")] IReadOnlyList<string> RelatedCodes);

/// <summary>
/// The cascade export: published resources the caller may see, in the standard's element names, as JSON (streamed) or XLSX
/// (a resource sheet with the elements flattened and an item sheet keyed by 信息资源代码).
/// </summary>
internal sealed class CatalogStandardExport(LianqiaoDb db, CatalogSearch search)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public const string Resources = "信息资源", Items = "信息项信息";

    async Task<(CatalogVocabulary Vocab, Dictionary<Guid, Organizations.Department> Departments)> ContextAsync(CancellationToken ct) =>
        (await CatalogVocabulary.LoadAsync(db, ct), await db.Set<Organizations.Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, ct));

    IQueryable<CatalogResource> Published(Caller caller) =>
        search.Filtered(new SearchQuery { Filters = new() { ["status"] = [nameof(ResourceStatus.Published)] } }, caller)
            .Include(r => r.Items).OrderBy(r => r.Code);

    static StandardResource Map(CatalogResource r, CatalogVocabulary v, Dictionary<Guid, Organizations.Department> departments)
    {
        var subject = r.ClassCode + r.SubjectCode;
        var open = CatalogRules.Eligibility(r);
        return new StandardResource(
            new StandardClassification(CatalogRules.ClassificationCode(r.ClassCode, r.SubjectCode, r.CatalogCode, r.DetailCode), r.ClassCode, r.SubjectCode,
                r.CatalogCode, r.DetailCode,
                string.Join('/', new[] { v.Label(CatalogVocabulary.ResourceClass, r.ClassCode), v.Label(CatalogVocabulary.Subject, subject) }.Where(x => x.Length > 0))),
            r.Name, r.Code, departments.GetValueOrDefault(r.DepartmentId)?.Name ?? "?", r.ProviderCode, r.Summary,
            new StandardFormat(v.Label(CatalogVocabulary.FormatCategory, r.FormatCategory), r.FormatType),
            r.Items.OrderBy(i => i.Ordinal).Select(i => new StandardItem(i.Name, i.DataType, i.Length)).ToList(),
            new StandardShare(v.Label(CatalogVocabulary.ShareType, r.ShareType), r.ShareCondition,
                r.ShareMethodClass is null ? null : v.Label(CatalogVocabulary.ShareMethodClass, r.ShareMethodClass),
                r.ShareMethodType is null ? null : v.Label(CatalogVocabulary.ShareMethodType, r.ShareMethodType), r.NotSharedBasis),
            // Whether it is opened is derived (核心/重要 data, L4 items are never open), not the stated open type.
            new StandardOpen(open.Eligible ? "是" : "否", v.Label(CatalogVocabulary.OpenType, open.EffectiveOpenType), r.OpenCondition),
            v.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle), r.PublishDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.RelatedCodes);
    }

    public async Task WriteJsonAsync(Stream output, Caller caller, DateTimeOffset now, CancellationToken ct)
    {
        var (vocab, departments) = await ContextAsync(ct);
        var rows = Published(caller).AsAsyncEnumerable();
        async IAsyncEnumerable<StandardResource> Mapped()
        {
            await foreach (var r in rows.WithCancellation(ct)) yield return Map(r, vocab, departments);
        }
        // IAsyncEnumerable is serialised as it is read: the whole catalog is never held in memory.
        await JsonSerializer.SerializeAsync(output, new Dictionary<string, object>
        {
            ["标准"] = "政务信息资源目录编制指南（试行）核心元数据",
            ["导出时间"] = now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture),
            [Resources] = Mapped(),
        }, Json, ct);
    }

    public async Task WriteXlsxAsync(Stream output, Caller caller, CancellationToken ct)
    {
        var (vocab, departments) = await ContextAsync(ct);
        var resources = await Published(caller).Select(r => r).ToListAsync(ct);
        var mapped = resources.Select(r => Map(r, vocab, departments)).ToList();
        var resourceRows = mapped.Select(s => new Dictionary<string, object?>
        {
            ["信息资源分类"] = s.Classification.Code,
            ["信息资源分类名称"] = s.Classification.Label,
            ["信息资源名称"] = Output.TabularOutput.SafeCell(s.Name),
            ["信息资源代码"] = s.Code,
            ["信息资源提供方"] = s.Provider,
            ["信息资源提供方代码"] = s.ProviderCode,
            ["信息资源摘要"] = Output.TabularOutput.SafeCell(s.Summary),
            ["信息资源格式"] = s.Format.Category + (s.Format.Type.Length > 0 ? "/" + Output.TabularOutput.SafeCell(s.Format.Type) : ""),
            ["信息项信息"] = string.Join("；", s.Items.Select(i => $"{i.Name}({i.DataType}{(i.Length is { } n ? "," + n.ToString(CultureInfo.InvariantCulture) : "")})")),
            ["共享属性-共享类型"] = s.Share.Type,
            ["共享属性-共享条件"] = Safe(s.Share.Condition),
            ["共享属性-共享方式"] = string.Join('/', new[] { s.Share.MethodClass, s.Share.MethodType }.Where(x => x is not null)),
            ["共享属性-不予共享依据"] = Safe(s.Share.NotSharedBasis),
            ["开放属性-是否向社会开放"] = s.Open.Open,
            ["开放属性-开放条件"] = Safe(s.Open.Condition),
            ["更新周期"] = s.UpdateCycle,
            ["发布日期"] = s.PublishDate,
            ["关联资源代码"] = string.Join("；", s.RelatedCodes),
        }).ToList();
        var itemRows = mapped.SelectMany(s => s.Items.Select(i => new Dictionary<string, object?>
        {
            ["信息资源代码"] = s.Code, ["信息项名称"] = Output.TabularOutput.SafeCell(i.Name), ["数据类型"] = i.DataType, ["数据长度"] = i.Length,
        })).ToList();
        var path = Path.Combine(Path.GetTempPath(), "lianqiao-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The XLSX zip needs a seekable stream; it is written to a temp file, then copied out asynchronously.
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await file.SaveAsAsync(new Dictionary<string, object> { [Resources] = resourceRows, [Items] = itemRows }, cancellationToken: ct);
            file.Position = 0;
            await file.CopyToAsync(output, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    static string? Safe(string? s) => s is null ? null : Output.TabularOutput.SafeCell(s);
}
