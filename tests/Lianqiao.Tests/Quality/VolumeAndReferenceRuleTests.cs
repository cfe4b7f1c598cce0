using System.Net;
using Lianqiao.Datasets;
using Lianqiao.Quality;
using Lianqiao.Tests.Infrastructure;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Quality;

public sealed class VolumeCheckTests
{
    [Theory]
    [InlineData(100, new long[] { 100, 100 }, 10, true)]
    [InlineData(110, new long[] { 100 }, 10, true)]      // exactly at the limit passes
    [InlineData(111, new long[] { 100 }, 10, false)]
    [InlineData(60, new long[] { 100, 80, 120 }, 30, false)] // mean 100, -40 %
    [InlineData(75, new long[] { 100, 80, 120 }, 30, true)]
    [InlineData(5, new long[] { 0 }, 50, false)]          // anything after empty loads is an infinite change
    [InlineData(0, new long[] { 0, 0 }, 50, true)]
    public void A_load_is_compared_with_the_mean_of_earlier_loads(long rows, long[] previous, double percent, bool passes) =>
        Assert.Equal(passes, VolumeCheck.Evaluate(rows, previous, percent)!.Passed);

    [Fact]
    public void A_first_load_is_not_evaluated() => Assert.Null(VolumeCheck.Evaluate(1000, [], 10));
}

public sealed class VolumeAndReferenceRuleTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    static object Routes(Guid departmentId) => new
    {
        name = "公交线路", departmentId,
        columns = new object[]
        {
            new { name = "线路编号", column = "route_id", type = "C", length = 16, required = true, key = true },
            new { name = "线路名称", column = "route_name", type = "C", length = 50 },
        },
        rules = new object[] { new { kind = "volume", max = "50", severity = "warning" } },
    };

    static object Stops(Guid departmentId, string severity = "error") => new
    {
        name = "公交站点", departmentId,
        columns = new object[]
        {
            new { name = "站点编号", column = "stop_id", type = "C", length = 16, required = true, key = true },
            new { name = "线路编号", column = "route_id", type = "C", length = 16, rules = new[] { new { kind = "reference", resource = "ref-routes", refColumn = "route_id", severity } } },
        },
    };

    static string RoutesCsv(int count) => "route_id,route_name\n" + string.Concat(Enumerable.Range(1, count).Select(i => $"R{i:D3},{i}路\n"));

    [Fact]
    public async Task A_replace_far_smaller_than_the_previous_ones_is_flagged_but_kept()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "vol-routes", Routes(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var first = await (await LoadCsvAsync(steward, "vol-routes", RoutesCsv(20), "replace")).OkJsonAsync<LoadDto>();
        Assert.DoesNotContain(first.Report!.Rules, r => r.Rule == RuleKinds.Volume);
        var second = await (await LoadCsvAsync(steward, "vol-routes", RoutesCsv(26), "replace")).OkJsonAsync<LoadDto>();
        Assert.DoesNotContain(second.Report!.Rules, r => r.Rule == RuleKinds.Volume);
        Assert.Null(second.Report.Notes);

        // Mean of 20 and 26 is 23; 5 rows is -78 %, beyond the ±50 % the rule allows.
        var shrunk = await (await LoadCsvAsync(steward, "vol-routes", RoutesCsv(5), "replace")).OkJsonAsync<LoadDto>();
        Assert.Equal((LoadStatus.Succeeded, 5L, 0L), (shrunk.Status, shrunk.RowsAccepted, shrunk.RowsQuarantined));
        var volume = Assert.Single(shrunk.Report!.Rules, r => r.Rule == RuleKinds.Volume);
        Assert.Equal((RuleSeverity.Warning, 1L), (volume.Severity, volume.Count));
        var note = Assert.Single(shrunk.Report.Notes!);
        Assert.Contains("数据量波动", note, StringComparison.Ordinal);
        Assert.Contains("-78.3%", note, StringComparison.Ordinal);
        var completeness = shrunk.Report.Dimensions.Single(d => d.Dimension == Dimension.Completeness);
        Assert.Equal(completeness.B - 1, completeness.A);

        // An append is a delta, compared only with earlier appends (none yet).
        var appended = await (await LoadCsvAsync(steward, "vol-routes", "route_id,route_name\nR900,900路\n", "append")).OkJsonAsync<LoadDto>();
        Assert.DoesNotContain(appended.Report!.Rules, r => r.Rule == RuleKinds.Volume);
        var page = await steward.GetStringAsync($"/datasets/vol-routes/loads/{shrunk.Id}");
        Assert.Contains("id=\"load-notes\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_volume_rule_needs_a_percent_and_can_only_warn()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var schema = new
        {
            name = "坏规则", departmentId = server.OwnDepartmentId,
            columns = new object[] { new { name = "编号", column = "code", type = "C", required = true, key = true } },
            rules = new object[] { new { kind = "volume", severity = "error" } },
        };
        var problem = await (await PutSchemaAsync(steward, "vol-bad", schema)).ProblemAsync(400);
        Assert.Contains("rules[0].max", problem.Errors!.Keys);
        Assert.Contains("rules[0].severity", problem.Errors!.Keys);
    }

    [Fact]
    public async Task A_value_missing_from_the_referenced_resource_is_quarantined_and_a_warning_keeps_the_row()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "ref-stops", Stops(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var stops = "stop_id,route_id\nS1,R001\nS2,R404\nS3,\n";
        // No table behind the reference yet: refused, not guessed.
        Assert.Equal("reference-target-missing", (await (await LoadCsvAsync(steward, "ref-stops", stops)).ProblemAsync(400)).Code);

        (await PutSchemaAsync(steward, "ref-routes", Routes(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        await (await LoadCsvAsync(steward, "ref-routes", RoutesCsv(3), "replace")).OkJsonAsync<LoadDto>();
        var load = await (await LoadCsvAsync(steward, "ref-stops", stops)).OkJsonAsync<LoadDto>();
        Assert.Equal((3L, 2L, 1L), (load.RowsRead, load.RowsAccepted, load.RowsQuarantined));
        var quarantined = await (await steward.GetAsync($"/api/v1/datasets/ref-stops/quarantine?loadId={load.Id}")).OkJsonAsync<QuarantinePage>();
        var row = Assert.Single(quarantined.Items);
        Assert.Equal((RuleKinds.Reference, "route_id", 3L), (row.Rule, row.Column, row.Line));
        Assert.Equal("R404", row.Raw["route_id"]);
        var consistency = load.Report!.Dimensions.Single(d => d.Dimension == Dimension.Consistency);
        Assert.Equal(1L, consistency.B - consistency.A);

        // A deleted route no longer satisfies the reference; as a warning the row is kept and flagged.
        (await PutSchemaAsync(steward, "ref-stops", Stops(server.OwnDepartmentId, severity: "warning"))).EnsureSuccessStatusCode();
        await (await LoadCsvAsync(steward, "ref-routes", "route_id,route_name\nR001,1路\n", "delete")).OkJsonAsync<LoadDto>();
        var warned = await (await LoadCsvAsync(steward, "ref-stops", "stop_id,route_id\nS9,R001\n", "upsert")).OkJsonAsync<LoadDto>();
        Assert.Equal((1L, 1L, 0L, 1L), (warned.RowsRead, warned.RowsAccepted, warned.RowsQuarantined, warned.RowsWarned));
    }
}
