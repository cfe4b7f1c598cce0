using System.Net;
using System.Net.Http.Json;
using Lianqiao.Catalog;
using Lianqiao.Domain.Masking;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Catalog;

public sealed class CatalogApiTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    ResourceInput Valid(string name, Guid department, string? slug = null) => new()
    {
        Slug = slug, Name = name, DepartmentId = department, Summary = name + "的摘要", ClassCode = "2", SubjectCode = "05", CatalogCode = "009",
        FormatCategory = "3", FormatType = "PostgreSQL", ShareType = "2", ShareCondition = "依法定职责共享", ShareMethodClass = "1", ShareMethodType = "1",
        OpenType = "3", UpdateCycle = "2", Library = "topic", ClassificationLevel = "general", Keywords = ["驾驶"],
        Items =
        [
            new DataItemInput { Name = "姓名", DataType = "C", Length = 50, Sensitivity = "L3", Kind = ItemKind.PersonName },
            new DataItemInput { Name = "驾驶证号", DataType = "C", Length = 18, IsKey = true, Sensitivity = "L2" },
        ],
    };

    [Fact]
    public async Task Drafts_are_visible_to_the_owning_department_and_admins_only()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var created = await (await steward.PostJsonAsync("/api/v1/catalog/", Valid("草稿可见性测试", server.OwnDepartmentId))).OkJsonAsync<ResourceDto>();
        Assert.Equal(ResourceStatus.Draft, created.Status);
        Assert.Matches("^[a-z0-9-]+$", created.Id);
        Assert.Contains("/", created.Code);

        using var sameDept = await server.AsUserAsync("t-consumer");
        Assert.Equal(HttpStatusCode.OK, (await sameDept.GetAsync($"/api/v1/catalog/{created.Id}")).StatusCode);
        using var admin = await server.AsAdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/catalog/{created.Id}")).StatusCode);
        using var other = await server.AsUserAsync("market-steward");
        await (await other.GetAsync($"/api/v1/catalog/{created.Id}")).ProblemAsync(404);
        var search = await (await other.GetAsync("/api/v1/catalog/?q=草稿可见性&status=Draft")).OkJsonAsync<SearchResult>();
        Assert.Equal(0, search.Total);
        var own = await (await steward.GetAsync("/api/v1/catalog/?q=草稿可见性&status=Draft")).OkJsonAsync<SearchResult>();
        Assert.Equal(1, own.Total);

        // Another department's steward may neither edit it nor catalog in the police department's name.
        await (await other.PutAsJsonAsync($"/api/v1/catalog/{created.Id}", Valid("改名", server.OwnDepartmentId), HttpAssertions.Json)).ProblemAsync(404);
        await (await other.PostJsonAsync("/api/v1/catalog/", Valid("越权编目", server.OwnDepartmentId))).ProblemAsync(403);
        using var consumer = await server.AsUserAsync("t-consumer");
        await (await consumer.PostJsonAsync("/api/v1/catalog/", Valid("使用方编目", server.OwnDepartmentId))).ProblemAsync(403);
    }

    [Fact]
    public async Task Invalid_metadata_is_rejected_with_every_error_at_once()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var input = Valid("", server.OwnDepartmentId) with
        {
            Code = "12/3", ShareType = "3", ShareCondition = null, NotSharedBasis = null, OpenType = "2", OpenCondition = null, UpdateCycle = "99",
            Slug = "Not A Slug",
            Items =
            [
                new DataItemInput { Name = "甲", ColumnName = "姓名", DataType = "C" },
                new DataItemInput { Name = "乙", ColumnName = "dup", DataType = "Q" },
                new DataItemInput { Name = "丙", ColumnName = "DUP", DataType = "C", Sensitivity = "L9" },
            ],
        };
        var problem = await (await steward.PostJsonAsync("/api/v1/catalog/", input)).ProblemAsync(400);
        Assert.Equal("validation", problem.Code);
        var keys = problem.Errors!.Keys.ToHashSet();
        foreach (var expected in new[] { "name", "code", "slug", "shareCondition", "notSharedBasis", "openCondition", "openType", "updateCycle",
                     "items[0].columnName", "items[1].dataType", "items[2].columnName", "items[2].sensitivity" })
            Assert.Contains(expected, keys);

        // 共享方式 is required unless 不予; 无条件 needs no condition.
        var method = await (await steward.PostJsonAsync("/api/v1/catalog/", Valid("共享方式", server.OwnDepartmentId) with { ShareType = "1", ShareCondition = null, ShareMethodClass = null })).ProblemAsync(400);
        Assert.Equal(["shareMethodClass"], method.Errors!.Keys.ToArray());
    }

    [Fact]
    public async Task A_resource_goes_from_draft_to_published_and_a_new_version_keeps_a_diff()
    {
        using var steward = await server.AsUserAsync("t-steward");
        using var admin = await server.AsAdminAsync();
        var draft = await (await steward.PostJsonAsync("/api/v1/catalog/", Valid("机动车驾驶人信息", server.OwnDepartmentId, "driver-licences"))).OkJsonAsync<ResourceDto>();
        Assert.Equal("driver-licences", draft.Id);
        Assert.Equal("L3", draft.Grade);
        Assert.Equal("name", draft.Items[0].ColumnName);
        Assert.Equal(MaskingRules.KeepEnds, draft.Items[0].MaskingRule);

        // Review refuses what is not submitted; a rejection needs a comment and returns the draft.
        await (await admin.PostJsonAsync("/api/v1/catalog/driver-licences/review", new ReviewInput(true, null))).ProblemAsync(409);
        Assert.Equal(ResourceStatus.Submitted, (await (await steward.PostJsonAsync("/api/v1/catalog/driver-licences/submit", new CommentInput("请审核"))).OkJsonAsync<ResourceDto>()).Status);
        await (await admin.PostJsonAsync("/api/v1/catalog/driver-licences/review", new ReviewInput(false, null))).ProblemAsync(400);
        Assert.Equal(ResourceStatus.Draft, (await (await admin.PostJsonAsync("/api/v1/catalog/driver-licences/review", new ReviewInput(false, "摘要过短"))).OkJsonAsync<ResourceDto>()).Status);
        await (await steward.PostJsonAsync("/api/v1/catalog/driver-licences/submit", new CommentInput(null))).OkJsonAsync<ResourceDto>();
        var queue = await (await admin.GetAsync("/api/v1/catalog/review-queue")).OkJsonAsync<List<SearchHit>>();
        Assert.Contains(queue, h => h.Id == "driver-licences");
        var published = await (await admin.PostJsonAsync("/api/v1/catalog/driver-licences/review", new ReviewInput(true, "同意"))).OkJsonAsync<ResourceDto>();
        Assert.Equal((ResourceStatus.Published, 1), (published.Status, published.Version));

        // Published metadata is for every member now, including other departments.
        using var other = await server.AsUserAsync("market-steward");
        await (await other.GetAsync("/api/v1/catalog/driver-licences")).OkJsonAsync<ResourceDto>();
        await (await steward.PutAsJsonAsync("/api/v1/catalog/driver-licences", Valid("直接改", server.OwnDepartmentId), HttpAssertions.Json)).ProblemAsync(409);

        var revision = await (await steward.PostAsync("/api/v1/catalog/driver-licences/versions", null)).OkJsonAsync<ResourceDto>();
        Assert.True(revision.IsRevision);
        var edited = Valid("机动车驾驶人信息（新版）", server.OwnDepartmentId) with
        {
            Items = [.. Valid("x", server.OwnDepartmentId).Items!, new DataItemInput { Name = "准驾车型", DataType = "C", Length = 10 }],
        };
        await (await steward.PutAsJsonAsync("/api/v1/catalog/driver-licences", edited, HttpAssertions.Json)).OkJsonAsync<ResourceDto>();
        // Until the new version is published, readers see version 1.
        Assert.Equal("机动车驾驶人信息", (await (await other.GetAsync("/api/v1/catalog/driver-licences")).OkJsonAsync<ResourceDto>()).Name);
        await (await steward.PostJsonAsync("/api/v1/catalog/driver-licences/submit", new CommentInput(null))).OkJsonAsync<ResourceDto>();
        var v2 = await (await admin.PostJsonAsync("/api/v1/catalog/driver-licences/review", new ReviewInput(true, null))).OkJsonAsync<ResourceDto>();
        Assert.Equal(2, v2.Version);
        Assert.Equal(3, v2.Items.Count);

        var diff = await (await other.GetAsync("/api/v1/catalog/driver-licences/diff?from=1&to=2")).OkJsonAsync<DiffDto>();
        Assert.Contains(diff.Changes, c => c.Field == "name" && c.Before == "机动车驾驶人信息" && c.After == "机动车驾驶人信息（新版）");
        Assert.Contains(diff.Changes, c => c.Field.StartsWith("items[item_3]", StringComparison.Ordinal) && c.Before == null);
        var history = await (await steward.GetAsync("/api/v1/catalog/driver-licences/versions")).OkJsonAsync<ResourceHistoryDto>();
        Assert.Equal([2, 1], history.Versions.Select(v => v.Version).ToArray());
        Assert.Contains(history.Comments, c => c.Action == "reject" && c.Text == "摘要过短");
        var byCode = await (await other.GetAsync($"/api/v1/catalog/by-code?code={Uri.EscapeDataString(v2.Code)}")).OkJsonAsync<ResourceDto>();
        Assert.Equal("driver-licences", byCode.Id);

        Assert.Contains(await server.AuditAsync("catalog.publish"), r => r.TargetId == "driver-licences");
        Assert.Contains(await server.AuditAsync("catalog.create"), r => r.TargetId == "driver-licences");

        var retired = await (await steward.PostJsonAsync("/api/v1/catalog/driver-licences/retire", new CommentInput("停用"))).OkJsonAsync<ResourceDto>();
        Assert.Equal(ResourceStatus.Retired, retired.Status);
    }

    [Fact]
    public async Task A_two_character_chinese_word_finds_the_population_resource_and_facets_count()
    {
        using var consumer = await server.AsUserAsync("t-consumer");
        var result = await (await consumer.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("人口") + "&pageSize=100")).OkJsonAsync<SearchResult>();
        Assert.Contains(result.Results, h => h.Id == "population-basic");
        Assert.All(result.Results, h => Assert.Equal(ResourceStatus.Published, h.Status));
        Assert.Equal(result.Total, result.Facets["shareType"].Sum(f => f.Count));
        Assert.Contains(result.Facets["department"], f => f.Label == "市公安局");

        var bus = await (await consumer.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("公交") + "&openType=1")).OkJsonAsync<SearchResult>();
        Assert.Equal(["bus-arrivals", "bus-routes", "bus-stops"], bus.Results.Select(h => h.Id).Order().ToArray());
        var none = await (await consumer.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("人口公交"))).OkJsonAsync<SearchResult>();
        Assert.Equal(0, none.Total);
        var all = await (await consumer.GetAsync("/api/v1/catalog/?pageSize=1")).OkJsonAsync<SearchResult>();
        Assert.True(all.Total >= 300, $"demo catalog has {all.Total} published resources");
        foreach (var facet in new[] { "shareType", "openType", "format" })
            Assert.True(all.Facets[facet].Count >= 3, facet);
    }

    [Fact]
    public async Task Open_eligibility_is_derived_from_grades_and_levels()
    {
        using var consumer = await server.AsUserAsync("t-consumer");
        var population = await (await consumer.GetAsync("/api/v1/catalog/population-basic")).OkJsonAsync<ResourceDto>();
        Assert.Equal("L3", population.Grade);
        Assert.False(population.Open.Eligible);
        Assert.Equal("id_number", Assert.Single(population.Items, i => i.IsKey).ColumnName);
        var legal = await (await consumer.GetAsync("/api/v1/catalog/legal-entity-basic")).OkJsonAsync<ResourceDto>();
        Assert.True(legal.Open.Eligible);
        Assert.DoesNotContain("legal_representative", legal.Open.OpenColumns);
        Assert.Contains("credit_code", legal.Open.OpenColumns);

        var reader = await server.InScopeAsync(sp => sp.GetRequiredService<ICatalogReader>().FindAsync("bus-arrivals"));
        Assert.NotNull(reader);
        Assert.Equal("7", reader.FormatCategory);
        Assert.Null(await server.InScopeAsync(sp => sp.GetRequiredService<ICatalogReader>().FindAsync("no-such-resource")));
    }
}
