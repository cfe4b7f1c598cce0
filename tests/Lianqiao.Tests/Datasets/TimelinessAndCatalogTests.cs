using Lianqiao.Catalog;
using Lianqiao.Datasets;
using Lianqiao.Domain.Masking;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

/// <summary>A clock the test moves forward.</summary>
public sealed class ShiftableTime : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

public sealed class ShiftedTimeServer : LianqiaoServer
{
    public ShiftableTime Time { get; } = new();
    protected override void Configure(WebApplicationBuilder builder) => builder.Services.AddSingleton<TimeProvider>(Time);
}

public sealed class TimelinessAndCatalogTests(ShiftedTimeServer server) : IClassFixture<ShiftedTimeServer>
{
    [Fact]
    public async Task A_resource_past_its_update_cycle_is_listed_overdue_until_it_is_loaded_again()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-monthly", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1988, 8, 8);
        (await LoadCsvAsync(steward, "pop-monthly", Csv(Row(1, born)))).EnsureSuccessStatusCode();
        Assert.DoesNotContain(await OverdueAsync(steward), o => o.ResourceId == "pop-monthly");

        server.Time.Offset = TimeSpan.FromDays(40);
        try
        {
            var overdue = Assert.Single(await OverdueAsync(steward), o => o.ResourceId == "pop-monthly");
            Assert.Equal(9, overdue.OverdueDays); // monthly = 31 calendar days
            Assert.False(overdue.WorkingDays);

            var late = await (await LoadCsvAsync(steward, "pop-monthly", Csv(Row(2, born)))).OkJsonAsync<LoadDto>();
            Assert.Equal(0, late.Report!.Dimensions.Single(d => d.Dimension == Lianqiao.Quality.Dimension.Timeliness).Score);
            Assert.DoesNotContain(await OverdueAsync(steward), o => o.ResourceId == "pop-monthly");
        }
        finally
        {
            server.Time.Offset = TimeSpan.Zero;
        }
    }

    static async Task<List<OverdueDto>> OverdueAsync(HttpClient client) =>
        await (await client.GetAsync("/api/v1/datasets/overdue")).OkJsonAsync<List<OverdueDto>>();

    [Fact]
    public void A_published_catalog_resource_maps_to_a_valid_table_schema_with_inferred_rules()
    {
        var resource = new CatalogResource
        {
            Slug = "population-basic", Code = "1", ClassCode = "1", SubjectCode = "01", CatalogCode = "001", Name = "人口基础信息",
            DepartmentId = Guid.NewGuid(), ProviderCode = "x", FormatCategory = "3", ShareType = "2", OpenType = "3", UpdateCycle = "2",
            Library = "base", ClassificationLevel = "general", Status = ResourceStatus.Published, Version = 1,
            Items =
            [
                new DataItem { Ordinal = 0, Name = "姓名", ColumnName = "Name", DataType = "C", Length = 50, Required = true, Kind = ItemKind.PersonName },
                new DataItem { Ordinal = 1, Name = "公民身份号码", ColumnName = "id_number", DataType = "C", Length = 18, IsKey = true, Kind = ItemKind.IdNumber },
                new DataItem { Ordinal = 2, Name = "性别", ColumnName = "gender", DataType = "C", Length = 1, CodeTable = "gender" },
                new DataItem { Ordinal = 3, Name = "出生日期", ColumnName = "birth_date", DataType = "D", Length = 8, Kind = ItemKind.BirthDate },
                new DataItem { Ordinal = 4, Name = "联系电话", ColumnName = "_phone", DataType = "C", Length = 20, Kind = ItemKind.Mobile },
            ],
        };
        var schema = CatalogSchemaSource.ToSchema(resource);
        Assert.Empty(SchemaRules.Validate(schema));
        Assert.Equal(["name", "id_number", "gender", "birth_date", "c_phone"], schema.Columns.Select(c => c.Column));
        Assert.True(schema.Columns[1].Key && schema.Columns[1].Required);
        Assert.Equal(RuleKinds.IdNumber, schema.Columns[1].Rules.Single().Kind);
        Assert.Equal(RuleSeverity.Warning, schema.Columns[4].Rules.Single().Severity);
        var consistency = schema.Rules.Single();
        Assert.Equal(("id_number", "birth_date", "gender"), (consistency.Column, consistency.Other, consistency.GenderColumn));
    }
}
