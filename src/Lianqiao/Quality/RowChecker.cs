using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;

namespace Lianqiao.Quality;

/// <summary>GB/T 36344 dimensions the rules report into (可访问性 is the sharing module's concern).</summary>
public enum Dimension { Completeness, Conformity, Accuracy, Consistency, Timeliness }

internal sealed record RowIssue(string Rule, string? Column, string Severity, string MessageZh, string MessageEn)
{
    public bool IsError => Severity == RuleSeverity.Error;
}

/// <summary>
/// Checks one row at a time against a schema: pure, no I/O, so memory does not depend on the file.
/// Rules that need other rows (unique, reference) run in the database after staging; see DatasetLoader.
/// </summary>
internal sealed class RowChecker
{
    readonly ColumnPlan[] columns;
    readonly List<RowRule> rowRules = [];

    public RowChecker(TableSchema schema, IReadOnlyDictionary<string, IReadOnlySet<string>> codeTables, DateOnly today)
    {
        Schema = schema;
        columns = schema.Columns.Select((c, i) => new ColumnPlan(c, i, codeTables, today)).ToArray();
        var index = schema.Columns.Select((c, i) => (c.Column, i)).ToDictionary(x => x.Column, x => x.i, StringComparer.Ordinal);
        foreach (var rule in schema.Rules)
        {
            if (rule.Kind == RuleKinds.IdConsistency)
            {
                rowRules.Add(IdConsistency(rule, index[rule.Column!], rule.Other is { } b ? index[b] : -1, rule.GenderColumn is { } g ? index[g] : -1));
            }
            else if (rule.Kind == RuleKinds.StartEnd)
            {
                rowRules.Add(StartEnd(rule, index[rule.Column!], index[rule.Other!]));
            }
        }
    }

    public TableSchema Schema { get; }

    /// <summary>
    /// Parses and checks <paramref name="raw"/> (schema column order) into <paramref name="typed"/>;
    /// adds every problem to <paramref name="issues"/> and returns whether any is an error.
    /// </summary>
    // Hot path: optimised at first call, not after tier-0 warm-up (which a busy machine can stretch over most of a load).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Check(string?[] raw, object?[] typed, List<RowIssue> issues, QualityTally tally)
    {
        var error = false;
        foreach (var plan in columns)
        {
            typed[plan.Index] = null;
            var value = Normalise(raw[plan.Index]);
            error |= plan.Check(value, typed, issues, tally);
        }
        foreach (var rule in rowRules) error |= rule(typed, issues, tally);
        return error;
    }

    // Cells are trimmed and an empty cell is a missing value: spreadsheets and exports pad with blanks.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static string? Normalise(string? value)
    {
        if (value is null) return null;
        if (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]))) value = value.Trim();
        return value.Length == 0 ? null : value;
    }

    static RowIssue? Report(RuleSpec rule, string? column, bool passed, Dimension dimension, QualityTally tally, List<RowIssue> issues, string zh, string en)
    {
        tally.Check(dimension, passed);
        if (passed) return null;
        tally.Fail(rule.Kind, rule.Severity);
        var issue = new RowIssue(rule.Kind, column, rule.Severity, rule.Message ?? zh, en);
        issues.Add(issue);
        return issue;
    }

    /// <summary>A passed check: counted, no message built; returns "no error".</summary>
    static bool Pass(Dimension dimension, QualityTally tally)
    {
        tally.Check(dimension, true);
        return false;
    }

    delegate bool RowRule(object?[] typed, List<RowIssue> issues, QualityTally tally);

    static RowRule IdConsistency(RuleSpec rule, int id, int birth, int gender) => (typed, issues, tally) =>
    {
        if (typed[id] is not string number || ResidentIdNumber.GetBirthDate(number) is not { } born) return false;
        var error = false;
        if (birth >= 0 && typed[birth] is { } b)
        {
            var stated = b switch { DateOnly d => d, DateTime t => DateOnly.FromDateTime(t), _ => (DateOnly?)null };
            var ok = stated == born;
            error |= Report(rule, rule.Other, ok, Dimension.Consistency, tally, issues,
                "出生日期与身份证号码中的出生日期不一致", "birth date does not match the one in the ID number")?.IsError == true;
        }
        if (gender >= 0 && typed[gender] is { } g)
        {
            var stated = GenderOf(g.ToString());
            var expected = ResidentIdNumber.GetGender(number);
            if (stated is Gender.Male or Gender.Female)
            {
                error |= Report(rule, rule.GenderColumn, stated == expected, Dimension.Consistency, tally, issues,
                    "性别与身份证号码第17位不一致", "gender does not match the 17th digit of the ID number")?.IsError == true;
            }
        }
        return error;
    };

    static Gender? GenderOf(string? value) => value switch
    {
        "1" or "男" or "男性" or "M" or "m" => Gender.Male,
        "2" or "女" or "女性" or "F" or "f" => Gender.Female,
        _ => null,
    };

    static RowRule StartEnd(RuleSpec rule, int start, int end) => (typed, issues, tally) =>
    {
        if (typed[start] is not IComparable s || typed[end] is not { } e || s.GetType() != e.GetType()) return false;
        return Report(rule, rule.Other, s.CompareTo(e) <= 0, Dimension.Consistency, tally, issues,
            "开始值晚于结束值", "the start is after the end")?.IsError == true;
    };

    /// <summary>One column's parse and checks, compiled once per load.</summary>
    sealed class ColumnPlan
    {
        readonly ColumnSpec spec;
        readonly char type;
        readonly RuleSpec requiredRule, typeRule, lengthRule, precisionRule;
        readonly IReadOnlySet<string>? codes;
        readonly RuleSpec? codeRule;
        readonly List<(RuleSpec Rule, Func<string, object, (bool Ok, object? Normalised, string Zh, string En)> Test, Dimension Dimension)> checks = [];

        public int Index { get; }

        public ColumnPlan(ColumnSpec spec, int index, IReadOnlyDictionary<string, IReadOnlySet<string>> codeTables, DateOnly today)
        {
            this.spec = spec;
            Index = index;
            type = spec.Type[0];
            requiredRule = new RuleSpec { Kind = RuleKinds.Required };
            typeRule = new RuleSpec { Kind = RuleKinds.Type };
            lengthRule = new RuleSpec { Kind = RuleKinds.Length };
            precisionRule = new RuleSpec { Kind = RuleKinds.Precision };
            if (spec.CodeTable is { } table)
            {
                codes = codeTables.TryGetValue(table, out var set) ? set
                    : throw new InvalidOperationException($"代码表 {table} 不存在 / code table {table} does not exist");
                codeRule = new RuleSpec { Kind = RuleKinds.CodeTable };
            }
            foreach (var rule in spec.Rules) AddCheck(rule, today);
        }

        void AddCheck(RuleSpec rule, DateOnly today)
        {
            switch (rule.Kind)
            {
                case RuleKinds.Regex:
                    var mismatch = $"does not match {rule.Pattern}";
                    // Compiled: a load runs one pattern over up to millions of cells, so the compile time is soon repaid.
                    var regex = new Regex(rule.Pattern!, RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(100));
                    checks.Add((rule, (raw, _) =>
                    {
                        bool ok;
                        try { ok = regex.IsMatch(raw); }
                        catch (RegexMatchTimeoutException) { ok = false; }
                        return (ok, null, "格式不符合要求", mismatch);
                    }, Dimension.Conformity));
                    break;
                case RuleKinds.IdNumber:
                    checks.Add((rule, (raw, _) => Code(ResidentIdNumber.Validate(raw, today)), Dimension.Conformity));
                    break;
                case RuleKinds.CreditCode:
                    checks.Add((rule, (raw, _) => Code(UnifiedSocialCreditCode.Validate(raw)), Dimension.Conformity));
                    break;
                case RuleKinds.OrgCode:
                    checks.Add((rule, (raw, _) => Code(OrganizationCode.Validate(raw)), Dimension.Conformity));
                    break;
                case RuleKinds.Mobile:
                    checks.Add((rule, (raw, _) => Code(MobilePhone.Validate(raw)), Dimension.Conformity));
                    break;
                case RuleKinds.Email:
                    checks.Add((rule, (raw, _) => Code(Email.Validate(raw)), Dimension.Conformity));
                    break;
                case RuleKinds.Range:
                    var min = Bound(rule.Min, today);
                    var max = Bound(rule.Max, today);
                    var outsideZh = $"超出取值范围 [{rule.Min ?? "-∞"}, {rule.Max ?? "+∞"}]";
                    var outsideEn = $"outside the range [{rule.Min ?? "-inf"}, {rule.Max ?? "+inf"}]";
                    checks.Add((rule, (_, value) =>
                    {
                        var v = Comparable(value);
                        var ok = v is null || ((min is null || Compare(v, min) >= 0) && (max is null || Compare(v, max) <= 0));
                        return (ok, null, outsideZh, outsideEn);
                    }, Dimension.Accuracy));
                    break;
                // unique and reference need other rows: the loader runs them in the database.
            }
        }

        static (bool, object?, string, string) Code(CodeValidation v) => (v.IsValid, v.Value, v.MessageZh ?? "", v.MessageEn ?? "");

        object? Bound(string? text, DateOnly today)
        {
            if (text is null) return null;
            if (text == "today") return type == 'T' ? today.ToDateTime(TimeOnly.MaxValue) : today;
            return ValueParser.TryParse(type is 'C' or 'M' or 'G' ? 'N' : type, text, out var v) ? Comparable(v)
                : throw new InvalidOperationException($"范围边界 {text} 与类型 {type} 不符 / range bound {text} does not fit type {type}");
        }

        static object? Comparable(object? v) => v switch
        {
            long l => (decimal)l,
            double d => (decimal)Math.Clamp(d, (double)decimal.MinValue, (double)decimal.MaxValue),
            _ => v,
        };

        static int Compare(object a, object b) => a is IComparable c && a.GetType() == b.GetType() ? c.CompareTo(b) : 0;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool Check(string? raw, object?[] typed, List<RowIssue> issues, QualityTally tally)
        {
            // Messages are built only for a failure: this runs for every cell of a load.
            if (spec.Required)
            {
                if (raw is null)
                {
                    Report(requiredRule, spec.Column, false, Dimension.Completeness, tally, issues, $"{spec.Name}为必填项", $"{spec.Column} is required");
                    return true;
                }
                tally.Check(Dimension.Completeness, true);
            }
            if (raw is null) return false;

            if (!ValueParser.TryParse(type, raw, out var value))
            {
                Report(typeRule, spec.Column, false, Dimension.Accuracy, tally, issues, $"{spec.Name}不是有效的{ValueParser.TypeNameZh(type)}", $"{spec.Column} is not a valid {ValueParser.TypeNameEn(type)}");
                return true;
            }
            tally.Check(Dimension.Accuracy, true);

            var error = false;
            if (spec.Length is { } max && type is 'C' or 'M' or 'G' or 'N' or 'Y')
            {
                // Neither count can exceed the UTF-16 length, so a value no longer than that passes without counting.
                var length = raw.Length <= max ? raw.Length : type is 'N' or 'Y' ? ValueParser.Digits(raw) : ValueParser.CodePoints(raw);
                error |= length <= max ? Pass(Dimension.Accuracy, tally) : Report(lengthRule, spec.Column, false, Dimension.Accuracy, tally, issues,
                    $"{spec.Name}长度 {length} 超过 {max}", $"{spec.Column} has length {length}, more than {max}")?.IsError == true;
            }
            if (spec.Scale is { } scale && value is decimal dec)
            {
                error |= dec.Scale <= scale ? Pass(Dimension.Accuracy, tally) : Report(precisionRule, spec.Column, false, Dimension.Accuracy, tally, issues,
                    $"{spec.Name}小数位超过 {scale} 位", $"{spec.Column} has more than {scale} decimal places")?.IsError == true;
            }
            if (codes is not null)
            {
                error |= codes.Contains(raw) ? Pass(Dimension.Conformity, tally) : Report(codeRule!, spec.Column, false, Dimension.Conformity, tally, issues,
                    $"{spec.Name}的值不在代码表 {spec.CodeTable} 中", $"{spec.Column} value is not a code of {spec.CodeTable}")?.IsError == true;
            }
            foreach (var (rule, test, dimension) in checks)
            {
                var (ok, normalised, zh, en) = test(raw, value!);
                error |= ok ? Pass(dimension, tally) : Report(rule, spec.Column, false, dimension, tally, issues, $"{spec.Name}：{zh}", $"{spec.Column}: {en}")?.IsError == true;
                // Codes are stored in their canonical form (upper-case X, no +86) so keys and joins agree.
                if (ok && normalised is string n && value is string) value = n;
            }
            typed[Index] = value;
            return error;
        }
    }
}

/// <summary>Text to the CLR value a column type stores, culture-invariant.</summary>
internal static class ValueParser
{
    static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy/MM/dd", "yyyyMMdd", "yyyy-M-d", "yyyy/M/d", "yyyy年M月d日", "yyyy.MM.dd"];
    static readonly string[] DateTimeFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy/MM/dd HH:mm:ss", "yyyy/M/d H:mm:ss", "yyyy/M/d H:mm",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd", "yyyy/MM/dd", "yyyyMMddHHmmss",
    ];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(char type, string raw, out object? value)
    {
        value = null;
        switch (type)
        {
            case 'C' or 'M' or 'G':
                // PostgreSQL text cannot hold NUL, and no data item means one.
                if (raw.Contains('\0', StringComparison.Ordinal)) return false;
                value = raw;
                return true;
            case 'N' or 'Y':
                if (decimal.TryParse(raw, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d)) { value = d; return true; }
                return false;
            case 'B' or 'F':
                if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && double.IsFinite(f)) { value = f; return true; }
                return false;
            case 'I':
                if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) { value = l; return true; }
                return false;
            case 'D':
                if (TryIsoDate(raw, out var iso)) { value = iso; return true; }
                if (DateOnly.TryParseExact(raw, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) { value = date; return true; }
                // Spreadsheets hand dates over as midnight date-times.
                if (DateTime.TryParseExact(raw, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var midnight) && midnight.TimeOfDay == TimeSpan.Zero)
                {
                    value = DateOnly.FromDateTime(midnight);
                    return true;
                }
                return false;
            case 'T':
                if (TryIsoDateTime(raw, out var isoTime)) { value = isoTime; return true; }
                if (DateTime.TryParseExact(raw, DateTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) { value = DateTime.SpecifyKind(t, DateTimeKind.Unspecified); return true; }
                return false;
            case 'L':
                switch (raw)
                {
                    case "1" or "true" or "TRUE" or "True" or "是" or "Y" or "y" or "T": value = true; return true;
                    case "0" or "false" or "FALSE" or "False" or "否" or "N" or "n" or "F": value = false; return true;
                    default: return false;
                }
            default:
                return false;
        }
    }

    // The common shapes, yyyy-MM-dd and yyyy-MM-dd[T ]HH:mm:ss, read digit by digit: a fast path that accepts
    // exactly what the first of the formats above accept (TryParseExact's general matcher is most of a row's cost).
    static bool TryIsoDate(ReadOnlySpan<char> s, out DateOnly date)
    {
        date = default;
        if (s.Length != 10 || s[4] != '-' || s[7] != '-') return false;
        if (!Digits(s, 0, 4, out var y) || !Digits(s, 5, 2, out var m) || !Digits(s, 8, 2, out var d)) return false;
        if (y < 1 || m is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, m)) return false;
        date = new DateOnly(y, m, d);
        return true;
    }

    static bool TryIsoDateTime(ReadOnlySpan<char> s, out DateTime value)
    {
        value = default;
        if (s.Length != 19 || s[10] is not ('T' or ' ') || s[13] != ':' || s[16] != ':' || !TryIsoDate(s[..10], out var date)) return false;
        if (!Digits(s, 11, 2, out var h) || !Digits(s, 14, 2, out var min) || !Digits(s, 17, 2, out var sec) || h > 23 || min > 59 || sec > 59) return false;
        value = date.ToDateTime(new TimeOnly(h, min, sec), DateTimeKind.Unspecified);
        return true;
    }

    static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i])) return false;
            value = value * 10 + (s[i] - '0');
        }
        return true;
    }

    public static int CodePoints(string s)
    {
        var n = 0;
        foreach (var c in s) if (!char.IsLowSurrogate(c)) n++;
        return n;
    }

    public static int Digits(string s)
    {
        var n = 0;
        foreach (var c in s) if (char.IsAsciiDigit(c)) n++;
        return n;
    }

    public static string TypeNameZh(char type) => type switch
    {
        'N' or 'Y' => "数值", 'B' or 'F' => "浮点数", 'I' => "整数", 'D' => "日期", 'T' => "日期时间", 'L' => "逻辑值", _ => "文本",
    };

    public static string TypeNameEn(char type) => type switch
    {
        'N' or 'Y' => "number", 'B' or 'F' => "floating-point number", 'I' => "integer", 'D' => "date", 'T' => "date-time", 'L' => "boolean", _ => "text",
    };

    /// <summary>How a stored date-time is written as text: seconds always, fractions only when it has them.</summary>
    public static string DateTimeFormat(DateTime t) => t.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    /// <summary>The stored value as text, for quarantine rows and exports.</summary>
    public static string? Format(object? value) => value switch
    {
        null => null,
        string s => s,
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString(DateTimeFormat(t), CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
