using Lianqiao.Data;
using Lianqiao.Reference;
using Lianqiao.Seeding;

namespace Lianqiao.Catalog;

/// <summary>The catalog's own vocabularies, kept as reference data because their codes are UNCONFIRMED (standards.md §1, §5).</summary>
internal sealed class CatalogCodeTablesSeed : ISeedStep
{
    public string Id => "p2-catalog/001-code-tables";
    public bool DemoOnly => false;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<LianqiaoDb>();
        foreach (var table in Tables()) db.Add(table);
        await db.SaveChangesAsync(cancellationToken);
    }

    static CodeTable Table(string code, string name, string nameEn, string source, params (string Code, string Label, string En)[] entries) => new()
    {
        Code = code, Name = name, NameEn = nameEn, Source = source,
        Entries = entries.Select((e, i) => new CodeEntry { TableCode = code, Code = e.Code, Label = e.Label, LabelEn = e.En, SortOrder = i + 1 }).ToList(),
    };

    internal static readonly (string Code, string Label, string En)[] Subjects =
    [
        ("101", "人口", "Population"), ("102", "法人单位", "Legal entities"), ("103", "自然资源和空间地理", "Natural resources and geography"),
        ("104", "社会信用", "Social credit"), ("105", "电子证照", "Electronic licences"),
        ("201", "公共服务", "Public services"), ("202", "健康保障", "Health"), ("203", "社会保障", "Social security"),
        ("204", "食品药品安全", "Food and drug safety"), ("205", "安全生产", "Work safety"), ("206", "价格监管", "Price supervision"),
        ("207", "能源安全", "Energy security"), ("208", "信用体系", "Credit system"), ("209", "城乡建设", "Urban and rural construction"),
        ("210", "社区治理", "Community governance"), ("211", "生态环保", "Ecology and environment"), ("212", "应急维稳", "Emergency and stability"),
        ("301", "党中央", "Party Central Committee"), ("302", "全国人大常委会", "NPC Standing Committee"), ("303", "国务院", "State Council"),
        ("304", "全国政协", "CPPCC"), ("305", "最高法", "Supreme People's Court"), ("306", "最高检", "Supreme People's Procuratorate"),
        ("307", "省级及以下部门", "Provincial and lower departments"), ("308", "计划单列市及以下部门", "Separately planned cities and lower"),
    ];

    internal static IEnumerable<CodeTable> Tables() =>
    [
        Table(CatalogVocabulary.ResourceClass, "信息资源分类（类）", "Resource class", "gov-catalog front-end constant (1 基础, 2 主题, 3 部门)",
            ("1", "基础", "Base"), ("2", "主题", "Topic"), ("3", "部门", "Department")),
        Table(CatalogVocabulary.Subject, "信息资源分类（项）", "Resource subject", "sc.gov.cn sheet004 lists; two-digit numbers by list order UNCONFIRMED",
            Subjects),
        Table(CatalogVocabulary.Library, "所属库", "Library", "UNCONFIRMED",
            ("base", "基础库", "Base library"), ("topic", "主题库", "Topic library"), ("department", "部门库", "Department library")),
        Table(CatalogVocabulary.MaskingRule, "脱敏规则", "Masking rule", "GB/T 37964-2019 technique families; display conventions of common practice (UNCONFIRMED codes)",
            (MaskingRules.None, "不脱敏", "None"), (MaskingRules.KeepEnds, "保留前 N 位和后 M 位", "Keep first N / last M"),
            (MaskingRules.Pseudonym, "密钥假名化", "Keyed pseudonym"), (MaskingRules.DateToYear, "日期泛化到年", "Date to year"),
            (MaskingRules.DateToMonth, "日期泛化到月", "Date to month"), (MaskingRules.AddressToDistrict, "地址泛化到区县", "Address to district"),
            (MaskingRules.EmailDomain, "保留邮箱域名", "Keep e-mail domain"), (MaskingRules.Suppress, "屏蔽", "Suppress")),
    ];
}
