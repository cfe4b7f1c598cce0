using Lianqiao.Catalog;
using Lianqiao.Components;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.OpenData;

/// <summary>A portal topic (主题): a label and the words that put a resource under it.</summary>
public sealed record OpenTopic(string Name, string NameEn, string[] Words);

/// <summary>How the public searches the open set; every filter takes one value.</summary>
public sealed record OpenQuery
{
    public string? Q { get; init; }
    public string? Topic { get; init; }
    public string? Department { get; init; }
    public string? OpenType { get; init; }
    public string? Format { get; init; }
    public string? UpdateCycle { get; init; }
    public string? Sort { get; init; }
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 20;
}

public sealed record OpenHit(string Id, string Name, Guid DepartmentId, string DepartmentName, string Summary, string OpenType, string OpenTypeLabel,
    string FormatLabel, string UpdateCycleLabel, IReadOnlyList<string> Topics, DateTimeOffset UpdatedAt, long Records, OpenCounts Counts);

public sealed record OpenCounts(long Views, long Downloads, long ApiCalls);

public sealed record OpenSearchResult(int Total, int Page, int PageSize, IReadOnlyList<OpenHit> Results,
    IReadOnlyDictionary<string, IReadOnlyList<FacetValue>> Facets);

public sealed record OpenStats(int Datasets, long Records, int Departments, long Views, long Downloads, long ApiCalls, IReadOnlyList<FacetValue> Topics);

/// <summary>Open metadata: only what a portal publishes (standards.md §2), only the open data items.</summary>
public sealed record OpenDatasetDto(string Id, string Code, string Name, string Summary, Guid DepartmentId, string DepartmentName, string OpenType,
    string OpenTypeLabel, string? OpenCondition, string Format, string FormatLabel, string FormatType, string UpdateCycle, string UpdateCycleLabel,
    IReadOnlyList<string> Tags, IReadOnlyList<string> Keywords, IReadOnlyList<string> Topics, string? Contact, DateOnly? PublishDate,
    DateTimeOffset UpdatedAt, int Version, long Records, DateTimeOffset? DataUpdatedAt, OpenCounts Counts, IReadOnlyList<OpenItemDto> Items);

public sealed record OpenItemDto(string Name, string ColumnName, string DataType, string DataTypeLabel, bool Masked, string Description);

public sealed record OpenRateRow(string Key, string Label, int Eligible, int Opened, double Rate);

public sealed record OpenRateDto(string Definition, OpenRateRow Total, IReadOnlyList<OpenRateRow> Departments, IReadOnlyList<OpenRateRow> Topics,
    IReadOnlyList<OpenRateTrendPoint> Trend, IReadOnlyList<OpenRateGap>? NotOpened);

public sealed record OpenRateTrendPoint(DateOnly Day, int Eligible, int Opened, double Rate);

/// <summary>An open-eligible resource not opened yet: what a department could do next (admins only).</summary>
public sealed record OpenRateGap(string Id, string Name, string DepartmentName, string OpenType, string Status);

/// <summary>
/// The public's view of the catalog: the open set (published and open-eligible, as the catalog derives it),
/// searched with the catalog's Chinese search, with topic facets and the portal's counters.
/// </summary>
internal sealed class OpenCatalog(LianqiaoDb db, CatalogSearch search, TimeProvider time)
{
    public static readonly OpenTopic[] Topics =
    [
        new("教育", "Education", ["教育", "学校", "学籍", "招生"]),
        new("交通", "Transport", ["交通", "公交", "道路", "运输", "出行"]),
        new("公共信用", "Public credit", ["信用", "失信", "守信", "双公示"]),
        new("医疗卫生", "Health", ["医疗", "卫生", "医院", "药品", "就诊"]),
        new("社会保障", "Social security", ["社保", "社会保障", "养老", "医保", "保险"]),
        new("市场监管", "Market", ["市场", "企业", "法人", "食品", "个体工商户"]),
        new("资源环境", "Environment", ["环境", "水利", "气象", "土地", "地理", "河湖"]),
        new("文化旅游", "Culture & tourism", ["文化", "旅游", "场馆", "体育"]),
        new("城乡建设", "Housing", ["住房", "建设", "不动产", "规划"]),
        new("政务服务", "Public services", ["政务服务", "事项", "许可"]),
    ];

    public static IReadOnlyList<string> TopicsOf(string name, IEnumerable<string> tags, IEnumerable<string> keywords)
    {
        var text = name + " " + string.Join(" ", tags) + " " + string.Join(" ", keywords);
        return Topics.Where(t => t.Words.Any(w => text.Contains(w, StringComparison.Ordinal))).Select(t => t.Name).ToList();
    }

    public static string TopicLabel(string name) => L.IsEnglish ? Topics.FirstOrDefault(t => t.Name == name)?.NameEn ?? name : name;

    DateOnly Today() => Reference.ChinaTime.Today(time);

    /// <summary>The published open-eligible resources (no items), filtered by text and the catalog-side facets.</summary>
    async Task<List<CatalogResource>> OpenSetAsync(OpenQuery query, CancellationToken ct)
    {
        var filters = new Dictionary<string, List<string>>();
        if (!string.IsNullOrEmpty(query.Department)) filters["department"] = [query.Department];
        if (!string.IsNullOrEmpty(query.OpenType)) filters["openType"] = [query.OpenType];
        if (!string.IsNullOrEmpty(query.Format)) filters["format"] = [query.Format];
        if (!string.IsNullOrEmpty(query.UpdateCycle)) filters["updateCycle"] = [query.UpdateCycle];
        var q = search.Filtered(new SearchQuery { Q = query.Q, Filters = filters, OpenOnly = true }, null)
            // Belt and braces: the derived flag already excludes these, the portal must never show them.
            .Where(r => r.OpenType != CatalogRules.NotOpen && r.ClassificationLevel != CatalogRules.CoreLevel
                && r.ClassificationLevel != CatalogRules.ImportantLevel && r.Grade != "L4");
        return await CatalogSearch.Sorted(q, query.Sort).ToListAsync(ct);
    }

    public async Task<Dictionary<string, OpenCounts>> CountsAsync(IReadOnlyCollection<string>? ids, CancellationToken ct)
    {
        var q = db.Set<OpenCounter>().AsNoTracking();
        if (ids is not null) q = q.Where(c => ids.Contains(c.ResourceId));
        var sums = await q.GroupBy(c => c.ResourceId)
            .Select(g => new { g.Key, Views = g.Sum(c => c.Views), Downloads = g.Sum(c => c.Downloads), Calls = g.Sum(c => c.ApiCalls) }).ToListAsync(ct);
        return sums.ToDictionary(s => s.Key, s => new OpenCounts(s.Views, s.Downloads, s.Calls));
    }

    public async Task<OpenSearchResult> SearchAsync(OpenQuery query, CancellationToken ct)
    {
        var pageSize = Math.Clamp(query.PageSize, 1, 100);
        var page = Math.Max(1, query.Page);
        var all = await OpenSetAsync(query, ct);
        var topics = all.ToDictionary(r => r.Slug, r => TopicsOf(r.Name, r.Tags, r.Keywords));
        if (!string.IsNullOrEmpty(query.Topic)) all = all.Where(r => topics[r.Slug].Contains(query.Topic)).ToList();

        var departments = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, ct);
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var pageRows = all.Skip((page - 1) * pageSize).Take(pageSize).ToList();
        var ids = pageRows.Select(r => r.Slug).ToList();
        var counts = await CountsAsync(ids, ct);
        var rows = await db.Set<DatasetTable>().AsNoTracking().Where(t => ids.Contains(t.ResourceId)).ToDictionaryAsync(t => t.ResourceId, t => t.LiveRows, ct);
        var hits = pageRows.Select(r => new OpenHit(r.Slug, r.Name, r.DepartmentId, departments.GetValueOrDefault(r.DepartmentId, "?"), r.Summary, r.OpenType,
            vocab.Label(CatalogVocabulary.OpenType, r.OpenType), vocab.Label(CatalogVocabulary.FormatCategory, r.FormatCategory),
            vocab.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle), topics[r.Slug], r.UpdatedAt, rows.GetValueOrDefault(r.Slug),
            counts.GetValueOrDefault(r.Slug) ?? new OpenCounts(0, 0, 0))).ToList();

        var facets = new Dictionary<string, IReadOnlyList<FacetValue>>
        {
            ["topic"] = Topics.Select(t => new FacetValue(t.Name, TopicLabel(t.Name), all.Count(r => topics[r.Slug].Contains(t.Name))))
                .Where(f => f.Count > 0).ToList(),
            ["department"] = Facet(all, r => r.DepartmentId.ToString(), v => departments.GetValueOrDefault(Guid.Parse(v), "?")),
            ["format"] = Facet(all, r => r.FormatCategory, v => vocab.Label(CatalogVocabulary.FormatCategory, v)),
            ["updateCycle"] = Facet(all, r => r.UpdateCycle, v => vocab.Label(CatalogVocabulary.UpdateCycle, v)),
            ["openType"] = Facet(all, r => r.OpenType, v => vocab.Label(CatalogVocabulary.OpenType, v)),
        };
        return new OpenSearchResult(all.Count, page, pageSize, hits, facets);
    }

    static List<FacetValue> Facet(List<CatalogResource> rows, Func<CatalogResource, string> key, Func<string, string> label) =>
        rows.GroupBy(key).Select(g => new FacetValue(g.Key, label(g.Key), g.Count())).OrderByDescending(f => f.Count).ThenBy(f => f.Label).ToList();

    public async Task<OpenStats> StatsAsync(CancellationToken ct)
    {
        var all = await OpenSetAsync(new OpenQuery(), ct);
        var ids = all.Select(r => r.Slug).ToList();
        var records = await db.Set<DatasetTable>().AsNoTracking().Where(t => ids.Contains(t.ResourceId)).SumAsync(t => t.LiveRows, ct);
        var counts = (await CountsAsync(ids, ct)).Values.ToList();
        var topics = Topics.Select(t => new FacetValue(t.Name, TopicLabel(t.Name), all.Count(r => TopicsOf(r.Name, r.Tags, r.Keywords).Contains(t.Name)))).ToList();
        return new OpenStats(all.Count, records, all.Select(r => r.DepartmentId).Distinct().Count(), counts.Sum(c => c.Views),
            counts.Sum(c => c.Downloads), counts.Sum(c => c.ApiCalls), topics);
    }

    /// <summary>Open metadata of one published, open-eligible resource; null when it is not in the open set.</summary>
    public async Task<OpenDatasetDto?> DatasetAsync(ResourceDto? r, CancellationToken ct)
    {
        if (!IsOpen(r)) return null;
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == r!.Id, ct);
        var counts = (await CountsAsync([r!.Id], ct)).GetValueOrDefault(r.Id) ?? new OpenCounts(0, 0, 0);
        var open = r.Open.OpenColumns.ToHashSet(StringComparer.Ordinal);
        var items = r.Items.Where(i => open.Contains(i.ColumnName)).Select(i => new OpenItemDto(i.Name, i.ColumnName, i.DataType,
            vocab.Label(CatalogVocabulary.DataItemType, i.DataType), i.MaskingRule != MaskingRules.None, i.Description)).ToList();
        return new OpenDatasetDto(r.Id, r.Code, r.Name, r.Summary, r.DepartmentId, r.DepartmentName, r.Open.EffectiveOpenType,
            vocab.Label(CatalogVocabulary.OpenType, r.Open.EffectiveOpenType), r.OpenCondition, r.FormatCategory,
            vocab.Label(CatalogVocabulary.FormatCategory, r.FormatCategory), r.FormatType, r.UpdateCycle, vocab.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle),
            r.Tags, r.Keywords, TopicsOf(r.Name, r.Tags, r.Keywords), r.Contact, r.PublishDate, r.UpdatedAt, r.Version, table?.LiveRows ?? 0,
            table?.LastSuccessAt, counts, items);
    }

    /// <summary>In the open set: published, eligible by the catalog's derivation, and none of the never-open markers.</summary>
    public static bool IsOpen(ResourceDto? r) =>
        r is { Status: ResourceStatus.Published, IsRevision: false, Open.Eligible: true } && r.Open.OpenColumns.Count > 0
        && r.ClassificationLevel is not (CatalogRules.CoreLevel or CatalogRules.ImportantLevel)
        && r.OpenType != CatalogRules.NotOpen && r.Items.All(i => i.Sensitivity != "L4");

    public const string RateDefinitionZh =
        "可开放资源：已编目（非退役）的资源中，不属于核心/重要数据、不含 L4 信息项、且至少有一个可开放信息项的资源（不论其当前开放类型）。" +
        "已开放资源：其中已发布、开放类型为无条件开放或有条件开放、且通过开放资格校验的资源。开放率 = 已开放 ÷ 可开放。";
    public const string RateDefinitionEn =
        "Open-eligible: catalogued (not retired) resources that hold no core/important data, no L4 item and at least one openable item, whatever their current open type. " +
        "Opened: those published with open type unconditional or conditional that pass the open-eligibility check. Open rate = opened ÷ open-eligible.";

    /// <summary>Open rate per department and topic; <paramref name="full"/> adds the trend and the list of eligible resources not opened.</summary>
    public async Task<OpenRateDto> OpenRateAsync(bool full, CancellationToken ct)
    {
        var resources = await db.Set<CatalogResource>().AsNoTracking().Include(r => r.Items)
            .Where(r => r.RevisionOf == null && r.Status != ResourceStatus.Retired).ToListAsync(ct);
        var departments = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, ct);
        var judged = resources.Select(r => (Resource: r, Eligible: CouldOpen(r), Opened: IsOpened(r), Topics: TopicsOf(r.Name, r.Tags, r.Keywords)))
            .Where(x => x.Eligible).ToList();
        var total = Row("all", L.T("全市", "City"), judged.Count, judged.Count(x => x.Opened));
        var byDept = judged.GroupBy(x => x.Resource.DepartmentId)
            .Select(g => Row(g.Key.ToString(), departments.GetValueOrDefault(g.Key, "?"), g.Count(), g.Count(x => x.Opened)))
            .OrderByDescending(r => r.Rate).ThenBy(r => r.Label).ToList();
        var byTopic = Topics.Select(t => (t, judged.Where(x => x.Topics.Contains(t.Name)).ToList())).Where(x => x.Item2.Count > 0)
            .Select(x => Row(x.t.Name, TopicLabel(x.t.Name), x.Item2.Count, x.Item2.Count(y => y.Opened))).ToList();
        var trend = new List<OpenRateTrendPoint>();
        List<OpenRateGap>? gaps = null;
        if (full)
        {
            var since = Today().AddDays(-90);
            trend = (await db.Set<OpenRateSnapshot>().AsNoTracking().Where(s => s.Scope == "all" && s.Day >= since).OrderBy(s => s.Day).ToListAsync(ct))
                .Select(s => new OpenRateTrendPoint(s.Day, s.Eligible, s.Opened, Rate(s.Eligible, s.Opened))).ToList();
            gaps = judged.Where(x => !x.Opened).Select(x => new OpenRateGap(x.Resource.Slug, x.Resource.Name,
                departments.GetValueOrDefault(x.Resource.DepartmentId, "?"), x.Resource.OpenType, x.Resource.Status.ToString())).ToList();
        }
        return new OpenRateDto(L.T(RateDefinitionZh, RateDefinitionEn), total, byDept, byTopic, trend, gaps);
    }

    static double Rate(int eligible, int opened) => eligible == 0 ? 0 : Math.Round(100.0 * opened / eligible, 1);
    static OpenRateRow Row(string key, string label, int eligible, int opened) => new(key, label, eligible, opened, Rate(eligible, opened));

    /// <summary>Eligible by content: the open-type choice aside, nothing bars opening it (checked as if it were 有条件开放).</summary>
    static bool CouldOpen(CatalogResource r)
    {
        var openType = r.OpenType;
        r.OpenType = CatalogRules.OpenConditional;
        try
        {
            return CatalogRules.Eligibility(r).Eligible;
        }
        finally
        {
            r.OpenType = openType;
        }
    }

    static bool IsOpened(CatalogResource r) =>
        r.Status == ResourceStatus.Published && r.OpenType is CatalogRules.OpenUnconditional or CatalogRules.OpenConditional && CatalogRules.Eligibility(r).Eligible;

    /// <summary>Writes today's snapshot rows (overwriting an earlier run of the same day).</summary>
    public async Task<int> SnapshotAsync(CancellationToken ct)
    {
        var rate = await OpenRateAsync(false, ct);
        var day = Today();
        var rows = new List<OpenRateSnapshot> { new() { Day = day, Scope = "all", Eligible = rate.Total.Eligible, Opened = rate.Total.Opened } };
        rows.AddRange(rate.Departments.Select(d => new OpenRateSnapshot { Day = day, Scope = "dept:" + d.Key, Eligible = d.Eligible, Opened = d.Opened }));
        rows.AddRange(rate.Topics.Select(t => new OpenRateSnapshot { Day = day, Scope = "topic:" + t.Key, Eligible = t.Eligible, Opened = t.Opened }));
        await db.Set<OpenRateSnapshot>().Where(s => s.Day == day).ExecuteDeleteAsync(ct);
        db.AddRange(rows);
        await db.SaveChangesAsync(ct);
        return rows.Count;
    }
}
