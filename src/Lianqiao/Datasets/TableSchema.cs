using System.Text.RegularExpressions;

namespace Lianqiao.Datasets;

/// <summary>
/// What the load engine needs to know about a resource with tabular data: its columns (the catalog's
/// data items) and quality rules. The catalog module feeds it through <see cref="ITableSchemaSource"/>;
/// until the catalog lands, <see cref="RegisteredSchemaSource"/> serves schemas registered through the API.
/// </summary>
public sealed record TableSchema
{
    public required string ResourceId { get; init; }
    public required string Name { get; init; }
    public required Guid DepartmentId { get; init; }
    /// <summary>Update cycle code from the "update-cycle" code table (2 daily, 3 weekly, 4 monthly…); null means none declared.</summary>
    public string? UpdateCycle { get; init; }
    public required IReadOnlyList<ColumnSpec> Columns { get; init; }
    /// <summary>Rules over several columns (id-consistency, start-end, unique, reference) and over the whole load (volume).</summary>
    public IReadOnlyList<RuleSpec> Rules { get; init; } = [];

    public IEnumerable<ColumnSpec> KeyColumns => Columns.Where(c => c.Key);
}

/// <summary>One data item (信息项) as a column.</summary>
public sealed record ColumnSpec
{
    /// <summary>信息项名称, shown to people and accepted as a header.</summary>
    public required string Name { get; init; }
    /// <summary>ASCII column name: the only thing that ever reaches DDL, after <see cref="SchemaRules.IsColumnName"/>.</summary>
    public required string Column { get; init; }
    /// <summary>Data item type code: C N Y D T L M G B I F.</summary>
    public required string Type { get; init; }
    public int? Length { get; init; }
    /// <summary>Decimal places for N and Y.</summary>
    public int? Scale { get; init; }
    public bool Required { get; init; }
    public bool Key { get; init; }
    /// <summary>A code table (reference data) the value must be a current code of.</summary>
    public string? CodeTable { get; init; }
    /// <summary>Sensitivity grade L1–L4.</summary>
    public string? Sensitivity { get; init; }
    /// <summary>Masking kind (Lianqiao.Domain.Masking.ItemKind name); inferred from the format rules when absent.</summary>
    public string? Masking { get; init; }
    public IReadOnlyList<RuleSpec> Rules { get; init; } = [];
}

/// <summary>A quality rule. Column rules leave <see cref="Column"/> empty: the column they sit on is meant.</summary>
public sealed record RuleSpec
{
    public required string Kind { get; init; }
    /// <summary>"error" quarantines the row, "warning" keeps it and flags it.</summary>
    public string Severity { get; init; } = RuleSeverity.Error;
    public string? Column { get; init; }
    public string? Pattern { get; init; }
    /// <summary>Range bounds: numbers, dates (yyyy-MM-dd) or "today".</summary>
    public string? Min { get; init; }
    public string? Max { get; init; }
    /// <summary>start-end: the end column. id-consistency: the birth-date column.</summary>
    public string? Other { get; init; }
    /// <summary>id-consistency: the gender column (GB/T 2261.1 codes).</summary>
    public string? GenderColumn { get; init; }
    /// <summary>unique over several columns.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
    /// <summary>reference: the resource whose key column the value must exist in.</summary>
    public string? Resource { get; init; }
    public string? RefColumn { get; init; }
    public string? Message { get; init; }
}

public static class RuleSeverity
{
    public const string Error = "error";
    public const string Warning = "warning";
}

/// <summary>The rule kinds; the names are stored in reports and quarantine rows, so they are a contract.</summary>
public static class RuleKinds
{
    public const string Required = "required";
    public const string Structure = "structure";
    public const string Type = "type";
    public const string Length = "length";
    public const string Precision = "precision";
    public const string Regex = "regex";
    public const string CodeTable = "code-table";
    public const string IdNumber = "id-number";
    public const string CreditCode = "credit-code";
    public const string OrgCode = "org-code";
    public const string Mobile = "mobile";
    public const string Email = "email";
    public const string Range = "range";
    public const string Unique = "unique";
    public const string IdConsistency = "id-consistency";
    public const string StartEnd = "start-end";
    public const string Reference = "reference";
    /// <summary>A load's row count against the previous loads of the same mode; <see cref="RuleSpec.Max"/> is the allowed change in percent. Warning only.</summary>
    public const string Volume = "volume";

    public static readonly IReadOnlySet<string> ColumnKinds = new HashSet<string>(StringComparer.Ordinal)
        { Regex, IdNumber, CreditCode, OrgCode, Mobile, Email, Range, Unique, Reference };
    public static readonly IReadOnlySet<string> ResourceKinds = new HashSet<string>(StringComparer.Ordinal)
        { IdConsistency, StartEnd, Unique, Reference, Volume };
}

/// <summary>Where the load engine finds schemas. The catalog implements it; the seam is this one method.</summary>
public interface ITableSchemaSource
{
    Task<TableSchema?> FindAsync(string resourceId, CancellationToken cancellationToken);
}

internal static partial class SchemaRules
{
    public const string Types = "CNYDTLMGBIF";
    static readonly HashSet<string> Grades = ["L1", "L2", "L3", "L4"];

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex ResourceIdRegex();

    // Lower case only: PostgreSQL folds unquoted names, and one spelling per column avoids surprises in SQL tools.
    [GeneratedRegex("^[a-z][a-z0-9_]{0,59}$")]
    private static partial Regex ColumnNameRegex();

    public static bool IsResourceId(string? id) => id is not null && ResourceIdRegex().IsMatch(id);
    public static bool IsColumnName(string? name) => name is not null && ColumnNameRegex().IsMatch(name);

    /// <summary>Every problem of a schema at once, keyed by JSON path.</summary>
    public static Dictionary<string, string[]> Validate(TableSchema s)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string key, string message)
        {
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            list.Add(message);
        }

        if (!IsResourceId(s.ResourceId)) Add("resourceId", "资源标识只能包含小写字母、数字和连字符 / lower-case letters, digits and hyphens only");
        if (string.IsNullOrWhiteSpace(s.Name) || s.Name.Length > 200) Add("name", "名称必填且不超过200字 / required, at most 200 characters");
        if (s.DepartmentId == Guid.Empty) Add("departmentId", "必须指定所属部门 / required");
        if (s.Columns is null || s.Columns.Count == 0) { Add("columns", "至少需要一个信息项 / at least one column"); return Finish(errors); }
        if (s.Columns.Count > 500) Add("columns", "信息项不超过500个 / at most 500 columns");

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Columns.Count; i++)
        {
            var c = s.Columns[i];
            var p = $"columns[{i}]";
            if (c is null) { Add(p, "不能为空 / must not be null"); continue; }
            if (!IsColumnName(c.Column)) Add(p + ".column", "列名须为小写字母开头的小写字母、数字或下划线，最长60 / a-z first, then a-z 0-9 _, at most 60");
            else if (!names.Add(c.Column)) Add(p + ".column", "列名重复 / duplicate column name");
            if (string.IsNullOrWhiteSpace(c.Name)) Add(p + ".name", "信息项名称必填 / required");
            if (c.Type is not { Length: 1 } || !Types.Contains(c.Type[0], StringComparison.Ordinal)) Add(p + ".type", "类型须为 C N Y D T L M G B I F 之一 / one of C N Y D T L M G B I F");
            if (c.Length is < 1 or > 100_000_000) Add(p + ".length", "长度须在1到1亿之间 / 1 to 100,000,000");
            if (c.Scale is < 0 or > 30) Add(p + ".scale", "小数位须在0到30之间 / 0 to 30");
            if (c.Key && !c.Required) Add(p + ".required", "主键信息项必须必填 / key columns must be required");
            if (c.Sensitivity is not null && !Grades.Contains(c.Sensitivity)) Add(p + ".sensitivity", "敏感级别须为 L1–L4 / L1 to L4");
            if (c.Masking is not null && !Enum.TryParse<Domain.Masking.ItemKind>(c.Masking, ignoreCase: true, out _)) Add(p + ".masking", "未知的脱敏类别 / unknown masking kind");
            for (var j = 0; j < (c.Rules?.Count ?? 0); j++)
            {
                var r = c.Rules![j];
                var rp = $"{p}.rules[{j}]";
                if (r is null || !RuleKinds.ColumnKinds.Contains(r.Kind)) { Add(rp + ".kind", "未知的列规则 / unknown column rule: " + r?.Kind); continue; }
                ValidateRule(r, rp, Add);
            }
        }
        for (var j = 0; j < s.Rules.Count; j++)
        {
            var r = s.Rules[j];
            var rp = $"rules[{j}]";
            if (r is null || !RuleKinds.ResourceKinds.Contains(r.Kind)) { Add(rp + ".kind", "未知的资源规则 / unknown resource rule: " + r?.Kind); continue; }
            ValidateRule(r, rp, Add);
            foreach (var col in new[] { r.Column, r.Other, r.GenderColumn }.Concat(r.Columns ?? []))
            {
                if (col is not null && !names.Contains(col)) Add(rp, "引用了不存在的列 / refers to an unknown column: " + col);
            }
            var needs = r.Kind switch
            {
                RuleKinds.IdConsistency => r.Column is null || (r.Other is null && r.GenderColumn is null),
                RuleKinds.StartEnd => r.Column is null || r.Other is null,
                RuleKinds.Unique => (r.Columns?.Count ?? 0) == 0 && r.Column is null,
                RuleKinds.Reference => r.Column is null,
                _ => false,
            };
            if (needs) Add(rp, "规则缺少所需的列 / the rule lacks the columns it needs");
        }
        return Finish(errors);
    }

    static void ValidateRule(RuleSpec r, string path, Action<string, string> add)
    {
        if (r.Severity is not (RuleSeverity.Error or RuleSeverity.Warning)) add(path + ".severity", "严重程度须为 error 或 warning / error or warning");
        if (r.Kind == RuleKinds.Regex)
        {
            try { _ = new Regex(r.Pattern ?? "", RegexOptions.None, TimeSpan.FromMilliseconds(100)); }
            catch (ArgumentException) { add(path + ".pattern", "正则表达式无效 / invalid regular expression"); }
            if (string.IsNullOrEmpty(r.Pattern)) add(path + ".pattern", "必填 / required");
        }
        if (r.Kind == RuleKinds.Range && r.Min is null && r.Max is null) add(path, "范围规则至少需要 min 或 max / min or max required");
        if (r.Kind == RuleKinds.Reference && (!IsResourceId(r.Resource) || !IsColumnName(r.RefColumn))) add(path, "引用规则需要 resource 与 refColumn / resource and refColumn required");
        if (r.Kind == RuleKinds.Volume)
        {
            if (!double.TryParse(r.Max, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var percent) || percent is <= 0 or > 10_000)
                add(path + ".max", "数据量波动规则的 max 为允许的变化百分比（大于0） / volume needs max: the allowed change in percent, above 0");
            if (r.Severity != RuleSeverity.Warning) add(path + ".severity", "数据量波动只能是 warning（不隔离单行） / volume is a warning: it flags the load, not rows");
        }
    }

    static Dictionary<string, string[]> Finish(Dictionary<string, List<string>> errors) => errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
