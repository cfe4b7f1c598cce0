using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;
using Lianqiao.Quality;
using Xunit;

namespace Lianqiao.Tests.Quality;

/// <summary>The row rules are pure: checked directly, one edge case at a time.</summary>
public sealed class RowCheckerTests
{
    static readonly DateOnly Today = new(2026, 11, 28);
    static readonly Dictionary<string, IReadOnlySet<string>> Codes = new()
    {
        ["gender"] = new HashSet<string> { "0", "1", "2", "9" },
    };

    static (bool Error, List<RowIssue> Issues, object?[] Typed) Check(ColumnSpec[] columns, RuleSpec[] rules, params string?[] values)
    {
        var schema = new TableSchema { ResourceId = "t", Name = "t", DepartmentId = Guid.NewGuid(), Columns = columns, Rules = rules };
        var checker = new RowChecker(schema, Codes, Today);
        var typed = new object?[columns.Length];
        var issues = new List<RowIssue>();
        var error = checker.Check(values, typed, issues, new QualityTally());
        return (error, issues, typed);
    }

    static ColumnSpec Col(string column, string type = "C", int? length = null, int? scale = null, bool required = false, string? codeTable = null, params RuleSpec[] rules) =>
        new() { Name = column, Column = column, Type = type, Length = length, Scale = scale, Required = required, CodeTable = codeTable, Rules = rules };

    static RuleSpec Rule(string kind, string severity = "error", string? min = null, string? max = null, string? pattern = null) =>
        new() { Kind = kind, Severity = severity, Min = min, Max = max, Pattern = pattern };

    static string IdFor(string birth, int sequence)
    {
        var first17 = $"320706{birth}{sequence:D3}";
        return first17 + ResidentIdNumber.ComputeCheckChar(first17);
    }

    [Fact]
    public void Id_number_with_lower_case_x_is_valid_and_stored_upper_case()
    {
        var id = Enumerable.Range(0, 1000).Select(i => IdFor("19900101", i)).First(i => i.EndsWith('X'));
        var (error, _, typed) = Check([Col("id", rules: Rule(RuleKinds.IdNumber))], [], id.ToLowerInvariant());
        Assert.False(error);
        Assert.Equal(id, typed[0]);
    }

    [Theory]
    [InlineData("20000229", true)]   // divisible by 400: a leap year
    [InlineData("19000229", false)]  // divisible by 100 only: not a leap year
    [InlineData("20230229", false)]
    [InlineData("20240229", true)]
    [InlineData("20991231", false)]  // in the future
    public void Id_number_birth_date_must_be_a_real_past_date(string birth, bool valid)
    {
        var (error, issues, _) = Check([Col("id", rules: Rule(RuleKinds.IdNumber))], [], IdFor(birth, 123));
        Assert.Equal(!valid, error);
        if (!valid) Assert.Equal(RuleKinds.IdNumber, issues.Single().Rule);
    }

    [Fact]
    public void Credit_code_whose_check_character_is_0_is_valid()
    {
        string? code = null;
        for (var i = 0; code is null; i++)
        {
            var body8 = $"MA{i:D6}";
            var org = body8 + OrganizationCode.ComputeCheckChar(body8);
            var first17 = "91320700" + org;
            var check = UnifiedSocialCreditCode.ComputeCheckChar(first17);
            if (check == '0') code = first17 + check;
        }
        Assert.False(Check([Col("c", rules: Rule(RuleKinds.CreditCode))], [], code).Error);
        Assert.True(Check([Col("c", rules: Rule(RuleKinds.CreditCode))], [], code[..17] + "1").Error);
    }

    [Fact]
    public void Organization_code_mobile_and_email_formats()
    {
        var body = "12345678";
        var org = body + "-" + OrganizationCode.ComputeCheckChar(body);
        Assert.False(Check([Col("o", rules: Rule(RuleKinds.OrgCode))], [], org).Error);
        Assert.False(Check([Col("m", rules: Rule(RuleKinds.Mobile))], [], "+86 138-1234-5678").Error);
        Assert.True(Check([Col("m", rules: Rule(RuleKinds.Mobile))], [], "12812345678").Error);
        Assert.False(Check([Col("e", rules: Rule(RuleKinds.Email))], [], "zhang.san@example.gov.cn").Error);
        Assert.True(Check([Col("e", rules: Rule(RuleKinds.Email))], [], "zhang.san@").Error);
    }

    [Fact]
    public void Required_type_length_and_precision()
    {
        ColumnSpec[] cols = [Col("name", length: 3, required: true), Col("amount", "N", length: 6, scale: 2), Col("n", "I"), Col("d", "D"), Col("b", "L")];
        Assert.False(Check(cols, [], "𠀀林", "1234.56", "-7", "2024/02/29", "是").Error); // one character outside the BMP counts once
        var (error, issues, _) = Check(cols, [], "  ", "12345.678", "1.5", "2023-02-29", "maybe");
        Assert.True(error);
        Assert.Equal(new[] { "required", "length", "precision", "type", "type", "type" }.Order(), issues.Select(i => i.Rule).Order());
        Assert.Contains(Check(cols, [], "张三四五", null, null, null, null).Issues, i => i.Rule == "length");
    }

    [Fact]
    public void Code_table_regex_and_ranges_with_severity()
    {
        ColumnSpec[] cols =
        [
            Col("gender", codeTable: "gender"),
            Col("plate", rules: Rule(RuleKinds.Regex, "warning", pattern: "^苏G[A-Z0-9]{5}$")),
            Col("age", "I", rules: Rule(RuleKinds.Range, min: "0", max: "150")),
            Col("born", "D", rules: Rule(RuleKinds.Range, min: "1900-01-01", max: "today")),
        ];
        Assert.False(Check(cols, [], "2", "苏GA1234", "150", "2026-11-28").Error);
        var (error, issues, _) = Check(cols, [], "3", "沪A12345", "151", "2026-11-29");
        Assert.True(error);
        Assert.Equal(4, issues.Count);
        Assert.Equal("warning", issues.Single(i => i.Rule == "regex").Severity);
        // A warning alone keeps the row.
        Assert.False(Check(cols, [], "1", "沪A12345", "1", "1999-01-01").Error);
    }

    [Fact]
    public void Birth_date_and_gender_must_agree_with_the_id_number_and_start_must_not_follow_end()
    {
        var id = IdFor("19850615", 123); // 17th digit 3: male
        ColumnSpec[] cols = [Col("id", rules: Rule(RuleKinds.IdNumber)), Col("born", "D"), Col("gender", codeTable: "gender"), Col("from", "D"), Col("to", "D")];
        RuleSpec[] rules =
        [
            new() { Kind = RuleKinds.IdConsistency, Column = "id", Other = "born", GenderColumn = "gender" },
            new() { Kind = RuleKinds.StartEnd, Column = "from", Other = "to" },
        ];
        Assert.False(Check(cols, rules, id, "1985-06-15", "1", "2024-01-01", "2024-01-01").Error);
        var (error, issues, _) = Check(cols, rules, id, "1985-06-16", "2", "2024-02-01", "2024-01-01");
        Assert.True(error);
        Assert.Equal(new[] { "id-consistency", "id-consistency", "start-end" }, issues.Select(i => i.Rule).Order());
        // Unknown gender (9) is not a disagreement.
        Assert.False(Check(cols, rules, id, "1985-06-15", "9", null, null).Error);
    }

    [Fact]
    public void Tally_scores_are_met_over_evaluated_per_dimension()
    {
        var tally = new QualityTally();
        tally.Check(Dimension.Completeness, true);
        tally.Check(Dimension.Completeness, false);
        tally.CheckMany(Dimension.Accuracy, 10, 1);
        var report = tally.Report();
        var completeness = report.Dimensions.Single(d => d.Dimension == Dimension.Completeness);
        Assert.Equal((1, 2, 0.5), (completeness.A, completeness.B, completeness.Score!.Value));
        Assert.Equal(0.9, report.Dimensions.Single(d => d.Dimension == Dimension.Accuracy).Score);
        Assert.Null(report.Dimensions.Single(d => d.Dimension == Dimension.Consistency).Score);
    }

    [Fact]
    public void Schema_validation_reports_every_problem_at_once()
    {
        var schema = new TableSchema
        {
            ResourceId = "Bad_Id",
            Name = "",
            DepartmentId = Guid.Empty,
            Columns = [Col("Name"), Col("dup"), Col("dup", "Z"), Col("k") with { Key = true }],
            Rules = [new RuleSpec { Kind = RuleKinds.StartEnd, Column = "nope" }],
        };
        var errors = SchemaRules.Validate(schema);
        Assert.Contains("resourceId", errors.Keys);
        Assert.Contains("name", errors.Keys);
        Assert.Contains("departmentId", errors.Keys);
        Assert.Contains("columns[0].column", errors.Keys);
        Assert.Contains("columns[2].column", errors.Keys);
        Assert.Contains("columns[2].type", errors.Keys);
        Assert.Contains("columns[3].required", errors.Keys);
        Assert.Contains("rules[0]", errors.Keys);
    }
}
