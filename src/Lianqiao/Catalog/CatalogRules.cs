using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Domain.Search;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>The code values the catalog checks against: every UNCONFIRMED enum lives in the reference code tables.</summary>
public sealed class CatalogVocabulary
{
    public const string ShareType = "share-type", OpenType = "open-type", UpdateCycle = "update-cycle", FormatCategory = "format-category",
        ShareMethodClass = "share-method-class", ShareMethodType = "share-method-type", DataItemType = "data-item-type",
        Sensitivity = "sensitivity-grade", ClassificationLevel = "classification-level", MaskingRule = "masking-rule",
        Library = "resource-library", Subject = "catalog-subject", ResourceClass = "catalog-class";

    readonly Dictionary<string, Dictionary<string, string>> labels;

    CatalogVocabulary(Dictionary<string, Dictionary<string, string>> labels) => this.labels = labels;

    public static async Task<CatalogVocabulary> LoadAsync(LianqiaoDb db, CancellationToken ct)
    {
        var entries = await db.Set<CodeEntry>().AsNoTracking().Where(e => e.RetiredInVersion == null)
            .OrderBy(e => e.SortOrder).Select(e => new { e.TableCode, e.Code, e.Label, e.LabelEn }).ToListAsync(ct);
        var en = Components.L.IsEnglish;
        return new(entries.GroupBy(e => e.TableCode).ToDictionary(g => g.Key,
            g => g.ToDictionary(e => e.Code, e => en && e.LabelEn.Length > 0 ? e.LabelEn : e.Label, StringComparer.Ordinal), StringComparer.Ordinal));
    }

    public bool Has(string table) => labels.ContainsKey(table);
    public bool Contains(string table, string? code) => code is not null && labels.TryGetValue(table, out var t) && t.ContainsKey(code);
    public string Label(string table, string? code) =>
        code is null ? "" : labels.TryGetValue(table, out var t) && t.TryGetValue(code, out var l) ? l : code;
    public IReadOnlyDictionary<string, string> Entries(string table) =>
        labels.TryGetValue(table, out var t) ? t : new Dictionary<string, string>();
}

/// <summary>Codes of the masking-rule vocabulary and their mapping to the domain's rules.</summary>
public static class MaskingRules
{
    public const string None = "none", KeepEnds = "keep-ends", Pseudonym = "pseudonym", DateToYear = "date-year", DateToMonth = "date-month",
        AddressToDistrict = "address-district", EmailDomain = "email-domain", Suppress = "suppress";

    public static (string Code, int? First, int? Last) FromRule(MaskingRule rule) => rule.Kind switch
    {
        MaskingKind.KeepEnds => (KeepEnds, rule.KeepFirst, rule.KeepLast),
        MaskingKind.Pseudonym => (Pseudonym, null, null),
        MaskingKind.GeneraliseDateToYear => (DateToYear, null, null),
        MaskingKind.GeneraliseDateToMonth => (DateToMonth, null, null),
        MaskingKind.GeneraliseAddressToDistrict => (AddressToDistrict, null, null),
        MaskingKind.KeepEmailDomain => (EmailDomain, rule.KeepFirst, null),
        MaskingKind.Suppress => (Suppress, null, null),
        _ => (None, null, null),
    };

    /// <summary>The rule the sharing module applies to an item.</summary>
    public static MaskingRule ToRule(string code, int? first, int? last, ItemKind kind) => code switch
    {
        KeepEnds => MaskingRule.KeepEnds(first ?? 0, last ?? 0, kind == ItemKind.BankCard ? 4 : 0),
        Pseudonym => MaskingRule.Pseudonym,
        DateToYear => MaskingRule.DateToYear,
        DateToMonth => MaskingRule.DateToMonth,
        AddressToDistrict => MaskingRule.AddressToDistrict,
        EmailDomain => MaskingRule.EmailDomain(first ?? 1),
        Suppress => MaskingRule.Suppress,
        _ => MaskingRule.None,
    };
}

/// <summary>Pure catalog rules: validation of §1, derived grade and open eligibility, identifiers, search tokens, diffs.</summary>
public static partial class CatalogRules
{
    public const string Unconditional = "1", Conditional = "2", NotShared = "3";
    public const string OpenUnconditional = "1", OpenConditional = "2", NotOpen = "3";
    public const string CoreLevel = "core", ImportantLevel = "important";

    static readonly HashSet<string> ReservedSlugs = ["by-code", "review-queue", "template", "export", "import", "search", "new"];

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    public static partial Regex SlugPattern();
    /// <summary>类(1) 项(2) 目(3) 细目(0–6 digits) "/" 顺序码 (1–12 digits).</summary>
    [GeneratedRegex("^[1-3][0-9]{5}[0-9]{0,6}/[0-9]{1,12}$")]
    public static partial Regex CodePattern();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    public static partial Regex ColumnPattern();

    public static string ClassificationCode(string classCode, string subject, string catalog, string detail) => classCode + subject + catalog + detail;

    /// <summary>Every error at once, keyed by the JSON path of the offending field.</summary>
    public static Dictionary<string, string[]> Validate(ResourceInput r, CatalogVocabulary v)
    {
        var e = new Dictionary<string, List<string>>();
        void Add(string key, string zh, string en)
        {
            if (!e.TryGetValue(key, out var list)) e[key] = list = [];
            list.Add($"{zh} / {en}");
        }
        void Code(string key, string table, string? value, string zh, string en, bool required = true)
        {
            if (string.IsNullOrWhiteSpace(value)) { if (required) Add(key, $"{zh}必填", $"{en} is required"); }
            else if (!v.Contains(table, value)) Add(key, $"{zh}代码“{value}”不在代码表 {table} 中", $"{en} '{value}' is not in code table {table}");
        }

        if (string.IsNullOrWhiteSpace(r.Name)) Add("name", "信息资源名称必填", "name is required");
        else if (r.Name.Length > 200) Add("name", "信息资源名称最多 200 字", "name is at most 200 characters");
        if (r.DepartmentId is null) Add("departmentId", "信息资源提供方必填", "departmentId is required");
        if (string.IsNullOrWhiteSpace(r.Summary)) Add("summary", "信息资源摘要必填", "summary is required");
        else if (r.Summary.Length > 4000) Add("summary", "摘要最多 4000 字", "summary is at most 4000 characters");

        Code("classCode", CatalogVocabulary.ResourceClass, r.ClassCode, "类", "classCode");
        if (string.IsNullOrWhiteSpace(r.SubjectCode) || !DigitsPattern(2).IsMatch(r.SubjectCode))
            Add("subjectCode", "项为两位数字", "subjectCode is two digits");
        else if (r.ClassCode is { Length: 1 } && !v.Contains(CatalogVocabulary.Subject, r.ClassCode + r.SubjectCode))
            Add("subjectCode", $"类 {r.ClassCode} 下没有项 {r.SubjectCode}", $"class {r.ClassCode} has no subject {r.SubjectCode}");
        if (string.IsNullOrWhiteSpace(r.CatalogCode) || !DigitsPattern(3).IsMatch(r.CatalogCode))
            Add("catalogCode", "目为三位数字", "catalogCode is three digits");
        if (!string.IsNullOrEmpty(r.DetailCode) && !Regex.IsMatch(r.DetailCode, "^[0-9]{1,6}$"))
            Add("detailCode", "细目为 1 至 6 位数字", "detailCode is 1 to 6 digits");
        if (!string.IsNullOrWhiteSpace(r.Code))
        {
            if (!CodePattern().IsMatch(r.Code))
                Add("code", "信息资源代码格式应为 分类码/顺序码（如 101001/000001）", "code must be classification code '/' sequence, e.g. 101001/000001");
            else if (r.Code[..r.Code.IndexOf('/')] != ClassificationCode(r.ClassCode ?? "", r.SubjectCode ?? "", r.CatalogCode ?? "", r.DetailCode ?? ""))
                Add("code", "信息资源代码的分类部分与类/项/目/细目不一致", "code's classification part differs from class/subject/catalog/detail");
        }
        if (!string.IsNullOrWhiteSpace(r.Slug) && (!SlugPattern().IsMatch(r.Slug) || ReservedSlugs.Contains(r.Slug)))
            Add("slug", "资源标识只能由小写字母、数字和连字符组成（2–64 位，不以连字符开头或结尾）", "slug is lower-case letters, digits and hyphens, 1–64 characters, no leading or trailing hyphen, not a reserved word");
        if (r.ProviderCode is { Length: > 64 }) Add("providerCode", "提供方代码最多 64 位", "providerCode is at most 64 characters");

        Code("formatCategory", CatalogVocabulary.FormatCategory, r.FormatCategory, "信息资源格式分类", "formatCategory");
        if (r.FormatType is { Length: > 100 }) Add("formatType", "格式类型最多 100 字", "formatType is at most 100 characters");

        Code("shareType", CatalogVocabulary.ShareType, r.ShareType, "共享类型", "shareType");
        if (r.ShareType is not null && r.ShareType != Unconditional && string.IsNullOrWhiteSpace(r.ShareCondition))
            Add("shareCondition", "有条件共享和不予共享须填写共享条件", "shareCondition is required unless the share type is unconditional");
        if (r.ShareType is not null && r.ShareType != NotShared)
        {
            Code("shareMethodClass", CatalogVocabulary.ShareMethodClass, r.ShareMethodClass, "共享方式分类", "shareMethodClass");
            if (r.ShareMethodClass == "1") Code("shareMethodType", CatalogVocabulary.ShareMethodType, r.ShareMethodType, "共享方式类型", "shareMethodType");
            else Code("shareMethodType", CatalogVocabulary.ShareMethodType, r.ShareMethodType, "共享方式类型", "shareMethodType", required: false);
        }
        if (r.ShareType == NotShared && string.IsNullOrWhiteSpace(r.NotSharedBasis))
            Add("notSharedBasis", "不予共享须填写不予共享依据（法律、行政法规或党中央、国务院政策）", "notSharedBasis is required for 不予共享");

        Code("openType", CatalogVocabulary.OpenType, r.OpenType, "开放类型", "openType");
        if (r.OpenType == OpenConditional && string.IsNullOrWhiteSpace(r.OpenCondition))
            Add("openCondition", "有条件开放须填写开放条件", "openCondition is required for conditional opening");
        if (r.ShareType == NotShared && r.OpenType is OpenUnconditional or OpenConditional)
            Add("openType", "不予共享的资源不能向社会开放", "a resource not shared with departments cannot be opened to the public");
        Code("updateCycle", CatalogVocabulary.UpdateCycle, r.UpdateCycle, "更新周期", "updateCycle");
        Code("library", CatalogVocabulary.Library, r.Library, "所属库", "library");
        Code("classificationLevel", CatalogVocabulary.ClassificationLevel, r.ClassificationLevel, "数据级别", "classificationLevel");

        foreach (var (code, i) in (r.RelatedCodes ?? []).Select((c, i) => (c, i)))
            if (!CodePattern().IsMatch(code ?? "")) Add($"relatedCodes[{i}]", "关联资源代码格式错误", "related code has the wrong format");
        ListLimit("tags", r.Tags, "主题标签", "tags");
        ListLimit("keywords", r.Keywords, "关键字", "keywords");
        if (r.Contact is { Length: > 200 }) Add("contact", "联系方式最多 200 字", "contact is at most 200 characters");

        var items = r.Items ?? [];
        if (items.Count == 0) Add("items", "至少需要一个信息项", "at least one data item is required");
        if (items.Count > 500) Add("items", "信息项最多 500 个", "at most 500 data items");
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < items.Count; i++)
        {
            var it = items[i];
            var p = $"items[{i}]";
            if (it is null) { Add(p, "信息项为空", "item is empty"); continue; }
            if (string.IsNullOrWhiteSpace(it.Name)) Add($"{p}.name", "信息项名称必填", "item name is required");
            else if (it.Name.Length > 200) Add($"{p}.name", "信息项名称最多 200 字", "item name is at most 200 characters");
            if (!string.IsNullOrWhiteSpace(it.ColumnName))
            {
                if (!ColumnPattern().IsMatch(it.ColumnName))
                    Add($"{p}.columnName", "字段名须为 ASCII 标识符（字母或下划线开头，字母数字下划线，最多 63 位）", "columnName must be an ASCII identifier");
                else if (!columns.Add(it.ColumnName))
                    Add($"{p}.columnName", $"字段名 {it.ColumnName} 重复", $"columnName {it.ColumnName} is used twice");
            }
            Code($"{p}.dataType", CatalogVocabulary.DataItemType, it.DataType, "数据类型", "dataType");
            if (it.Length is < 1 or > 1_000_000) Add($"{p}.length", "数据长度为 1 至 1000000", "length is 1 to 1000000");
            Code($"{p}.sensitivity", CatalogVocabulary.Sensitivity, it.Sensitivity, "敏感级别", "sensitivity", required: false);
            Code($"{p}.maskingRule", CatalogVocabulary.MaskingRule, it.MaskingRule, "脱敏规则", "maskingRule", required: false);
            if (it.MaskKeepFirst is < 0 or > 64 || it.MaskKeepLast is < 0 or > 64)
                Add($"{p}.maskingRule", "保留位数为 0 至 64", "kept characters are 0 to 64");
            if (it.CodeTable is { Length: > 0 } table && !v.Has(table))
                Add($"{p}.codeTable", $"代码表 {table} 不存在", $"code table {table} does not exist");
            if (it.Description is { Length: > 1000 }) Add($"{p}.description", "说明最多 1000 字", "description is at most 1000 characters");
        }
        return e.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

        void ListLimit(string key, List<string>? list, string zh, string en)
        {
            if (list is null) return;
            if (list.Count > 30) Add(key, $"{zh}最多 30 个", $"at most 30 {en}");
            if (list.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 50)) Add(key, $"{zh}每个 1 至 50 字", $"each of {en} is 1 to 50 characters");
        }
    }

    static Regex DigitsPattern(int n) => n == 2 ? TwoDigits() : ThreeDigits();
    [GeneratedRegex("^[0-9]{2}$")] private static partial Regex TwoDigits();
    [GeneratedRegex("^[0-9]{3}$")] private static partial Regex ThreeDigits();

    static int GradeRank(string grade) => grade switch { "L4" => 4, "L3" => 3, "L2" => 2, _ => 1 };

    public static string GradeOf(IEnumerable<DataItem> items) =>
        items.Select(i => i.Sensitivity).DefaultIfEmpty("L1").MaxBy(GradeRank)!;

    static bool Masked(DataItem i) => i.MaskingRule != MaskingRules.None;

    /// <summary>
    /// 核心/重要 data, any L4 item or 不予开放 → never open. L1 items are open under either open type;
    /// L2/L3 items only masked and only under 有条件开放.
    /// </summary>
    public static OpenEligibility Eligibility(CatalogResource r)
    {
        var reasons = new List<string>();
        if (r.ClassificationLevel is CoreLevel or ImportantLevel)
            reasons.Add(Components.L.T("核心数据和重要数据不予开放", "core and important data are never opened"));
        if (r.Items.Any(i => i.Sensitivity == "L4"))
            reasons.Add(Components.L.T("含 L4 敏感信息项", "has an L4 (sensitive) item"));
        if (r.OpenType is not (OpenUnconditional or OpenConditional))
            reasons.Add(Components.L.T("开放类型为不予开放", "the open type is not open"));
        if (reasons.Count > 0) return new(false, NotOpen, reasons, []);

        var open = r.Items.OrderBy(i => i.Ordinal)
            .Where(i => i.Sensitivity == "L1" || (r.OpenType == OpenConditional && i.Sensitivity is "L2" or "L3" && Masked(i)))
            .Select(i => i.ColumnName).ToList();
        if (open.Count == 0)
            return new(false, NotOpen, [Components.L.T("没有可开放的信息项", "no item may be opened")], []);
        if (open.Count < r.Items.Count)
            reasons.Add(Components.L.T("部分信息项不开放（L2/L3 仅在有条件开放且脱敏时开放）", "some items stay closed (L2/L3 only masked under conditional opening)"));
        return new(true, r.OpenType, reasons, open);
    }

    public static bool IsOpenItem(CatalogResource r, DataItem i, OpenEligibility e) => e.Eligible && e.OpenColumns.Contains(i.ColumnName);

    static readonly Dictionary<string, string> KnownColumns = new()
    {
        ["姓名"] = "name", ["公民身份号码"] = "id_number", ["身份证号码"] = "id_number", ["性别"] = "gender", ["出生日期"] = "birth_date",
        ["户籍地址"] = "household_address", ["住址"] = "address", ["地址"] = "address", ["联系电话"] = "phone", ["手机号码"] = "mobile",
        ["统一社会信用代码"] = "credit_code", ["企业名称"] = "entity_name", ["单位名称"] = "entity_name", ["法定代表人"] = "legal_representative",
        ["成立日期"] = "established_on", ["注册资本"] = "registered_capital", ["经营范围"] = "business_scope", ["登记状态"] = "status",
        ["线路编号"] = "route_id", ["线路名称"] = "route_name", ["站点编号"] = "stop_id", ["站点名称"] = "stop_name", ["经度"] = "longitude",
        ["纬度"] = "latitude", ["电子邮箱"] = "email", ["行政区划代码"] = "region_code", ["更新时间"] = "updated_at", ["民族"] = "ethnicity",
    };

    /// <summary>The steward's column name, or a known English one, or item_N; made unique within the resource.</summary>
    public static string ColumnFor(DataItemInput item, int index, ISet<string> taken)
    {
        var name = !string.IsNullOrWhiteSpace(item.ColumnName) ? item.ColumnName.Trim()
            : KnownColumns.TryGetValue(item.Name?.Trim() ?? "", out var known) ? known
            : item.Kind is { } k && k != ItemKind.Other ? KindColumn(k)
            : $"item_{index + 1}";
        var candidate = name;
        for (var n = 2; !taken.Add(candidate); n++) candidate = $"{name}_{n}";
        return candidate;
    }

    static string KindColumn(ItemKind k) => k switch
    {
        ItemKind.PersonName => "name", ItemKind.IdNumber => "id_number", ItemKind.Mobile => "mobile", ItemKind.Landline => "phone",
        ItemKind.Address => "address", ItemKind.Email => "email", ItemKind.BankCard => "bank_card", ItemKind.LicensePlate => "plate",
        ItemKind.BirthDate => "birth_date", _ => "item",
    };

    /// <summary>"res-" + the code with its slash turned into a hyphen: stable, ASCII and unique because the code is.</summary>
    public static string SlugFor(string code) => "res-" + code.Replace('/', '-');

    /// <summary>The searchable tokens: CJK bigrams plus single characters (so one-character queries work), Latin words and digit runs.</summary>
    public static HashSet<string> Tokens(CatalogResource r, string departmentName)
    {
        var text = string.Join(' ', new[] { r.Name, r.Summary, r.Code, departmentName }
            .Concat(r.Keywords).Concat(r.Tags).Concat(r.Items.Select(i => i.Name)));
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in CjkTokenizer.Tokenize(text))
        {
            if (t.Length <= 32) tokens.Add(t);
        }
        foreach (var rune in text.EnumerateRunes())
        {
            if (CjkTokenizer.IsHan(rune)) tokens.Add(rune.ToString());
        }
        return tokens;
    }

    public static ResourceInput AsInput(this CatalogResource r) => new()
    {
        Slug = r.Slug, Code = r.Code, ClassCode = r.ClassCode, SubjectCode = r.SubjectCode, CatalogCode = r.CatalogCode, DetailCode = r.DetailCode,
        Name = r.Name, DepartmentId = r.DepartmentId, ProviderCode = r.ProviderCode, Summary = r.Summary,
        FormatCategory = r.FormatCategory, FormatType = r.FormatType, ShareType = r.ShareType, ShareCondition = r.ShareCondition,
        ShareMethodClass = r.ShareMethodClass, ShareMethodType = r.ShareMethodType, NotSharedBasis = r.NotSharedBasis,
        OpenType = r.OpenType, OpenCondition = r.OpenCondition, UpdateCycle = r.UpdateCycle, PublishDate = r.PublishDate,
        RelatedCodes = [.. r.RelatedCodes], Tags = [.. r.Tags], Keywords = [.. r.Keywords], Contact = r.Contact, Library = r.Library,
        ClassificationLevel = r.ClassificationLevel,
        Items = r.Items.OrderBy(i => i.Ordinal).Select(i => new DataItemInput
        {
            Name = i.Name, ColumnName = i.ColumnName, DataType = i.DataType, Length = i.Length, Required = i.Required, IsKey = i.IsKey,
            CodeTable = i.CodeTable, Sensitivity = i.Sensitivity, Kind = i.Kind, MaskingRule = i.MaskingRule,
            MaskKeepFirst = i.MaskKeepFirst, MaskKeepLast = i.MaskKeepLast, Description = i.Description,
        }).ToList(),
    };

    /// <summary>Copies validated content onto an entity; identifiers (slug, code) are set by the caller.</summary>
    public static void Apply(this CatalogResource r, ResourceInput input, string providerCode)
    {
        r.ClassCode = input.ClassCode!;
        r.SubjectCode = input.SubjectCode!;
        r.CatalogCode = input.CatalogCode!;
        r.DetailCode = input.DetailCode ?? "";
        r.Name = input.Name!.Trim();
        r.DepartmentId = input.DepartmentId!.Value;
        r.ProviderCode = string.IsNullOrWhiteSpace(input.ProviderCode) ? providerCode : input.ProviderCode.Trim();
        r.Summary = input.Summary!.Trim();
        r.FormatCategory = input.FormatCategory!;
        r.FormatType = input.FormatType?.Trim() ?? "";
        r.ShareType = input.ShareType!;
        r.ShareCondition = Blank(input.ShareCondition);
        r.ShareMethodClass = input.ShareType == NotShared ? null : Blank(input.ShareMethodClass);
        r.ShareMethodType = input.ShareType == NotShared ? null : Blank(input.ShareMethodType);
        r.NotSharedBasis = input.ShareType == NotShared ? Blank(input.NotSharedBasis) : null;
        r.OpenType = input.OpenType!;
        r.OpenCondition = Blank(input.OpenCondition);
        r.UpdateCycle = input.UpdateCycle!;
        r.PublishDate = input.PublishDate;
        r.RelatedCodes = input.RelatedCodes?.Distinct().ToList() ?? [];
        r.Tags = input.Tags?.Select(t => t.Trim()).Distinct().ToList() ?? [];
        r.Keywords = input.Keywords?.Select(t => t.Trim()).Distinct().ToList() ?? [];
        r.Contact = Blank(input.Contact);
        r.Library = input.Library!;
        r.ClassificationLevel = input.ClassificationLevel!;

        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var given in (input.Items ?? []).Where(i => !string.IsNullOrWhiteSpace(i.ColumnName))) taken.Add(given.ColumnName!.Trim());
        r.Items.Clear();
        var items = input.Items ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            var it = items[i];
            var kind = it.Kind ?? ItemKind.Other;
            var column = !string.IsNullOrWhiteSpace(it.ColumnName) ? it.ColumnName.Trim() : ColumnFor(it, i, taken);
            var (rule, first, last) = string.IsNullOrWhiteSpace(it.MaskingRule)
                ? MaskingRules.FromRule(MaskingDefaults.For(kind))
                : (it.MaskingRule, it.MaskKeepFirst, it.MaskKeepLast);
            r.Items.Add(new DataItem
            {
                ResourceId = r.Id, Ordinal = i, Name = it.Name!.Trim(), ColumnName = column, DataType = it.DataType!, Length = it.Length,
                Required = it.Required ?? false, IsKey = it.IsKey ?? false, CodeTable = Blank(it.CodeTable),
                Sensitivity = string.IsNullOrWhiteSpace(it.Sensitivity) ? "L1" : it.Sensitivity, Kind = kind,
                MaskingRule = rule, MaskKeepFirst = first, MaskKeepLast = last, Description = it.Description?.Trim() ?? "",
            });
        }
        Derive(r);
    }

    public static void Derive(CatalogResource r)
    {
        r.Grade = GradeOf(r.Items);
        r.OpenEligible = Eligibility(r).Eligible;
    }

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    static readonly JsonSerializerOptions SnapshotJson = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static string Serialize(ResourceInput snapshot) => JsonSerializer.Serialize(snapshot, SnapshotJson);
    public static ResourceInput Deserialize(string json) => JsonSerializer.Deserialize<ResourceInput>(json, SnapshotJson)!;
    public static string SerializeDiff(IReadOnlyList<FieldChange> diff) => JsonSerializer.Serialize(diff, SnapshotJson);
    public static List<FieldChange> DeserializeDiff(string json) => JsonSerializer.Deserialize<List<FieldChange>>(json, SnapshotJson) ?? [];

    /// <summary>Field-by-field changes; items are matched by column name so a reorder is not reported as edits.</summary>
    public static List<FieldChange> Diff(ResourceInput? before, ResourceInput after)
    {
        var a = Flatten(before);
        var b = Flatten(after);
        var changes = new List<FieldChange>();
        foreach (var key in a.Keys.Union(b.Keys).Distinct())
        {
            a.TryGetValue(key, out var x);
            b.TryGetValue(key, out var y);
            if (x != y) changes.Add(new FieldChange(key, x, y));
        }
        return changes;
    }

    static Dictionary<string, string?> Flatten(ResourceInput? r)
    {
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (r is null) return map;
        var node = JsonSerializer.SerializeToNode(r with { Items = null }, SnapshotJson)!.AsObject();
        foreach (var (k, v) in node)
        {
            if (k == "items") continue;
            map[k] = v switch { null => null, JsonArray arr => string.Join("; ", arr.Select(x => x?.ToString())), _ => v.ToString() };
        }
        foreach (var item in r.Items ?? [])
        {
            var itemNode = JsonSerializer.SerializeToNode(item, SnapshotJson)!.AsObject();
            foreach (var (k, v) in itemNode)
            {
                if (k == "columnName") continue;
                map[$"items[{item.ColumnName}].{k}"] = v?.ToString();
            }
        }
        return map;
    }
}
