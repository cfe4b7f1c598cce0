using System.Diagnostics;
using Lianqiao.Catalog;
using Lianqiao.Domain.Masking;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Lianqiao.Tests.Catalog;

public sealed class CatalogScaleTests(CatalogServer server, ITestOutputHelper output) : IClassFixture<CatalogServer>
{
    ResourceInput Input(string name, string summary, string keyword) => new()
    {
        Name = name, DepartmentId = server.OwnDepartmentId, Summary = summary, ClassCode = "2", SubjectCode = "05", CatalogCode = "011",
        FormatCategory = "3", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "1", OpenType = "3", UpdateCycle = "2",
        Library = "topic", ClassificationLevel = "general", Keywords = [keyword],
        Items = [new DataItemInput { Name = "编号", DataType = "C", Length = 20, Sensitivity = "L1", Kind = ItemKind.Other }],
    };

    async Task<ResourceDto> PublishAsync(HttpClient admin, ResourceInput input)
    {
        var draft = await (await admin.PostJsonAsync("/api/v1/catalog/", input)).OkJsonAsync<ResourceDto>();
        await (await admin.PostJsonAsync($"/api/v1/catalog/{draft.Id}/submit", new CommentInput(null))).OkJsonAsync<ResourceDto>();
        return await (await admin.PostJsonAsync($"/api/v1/catalog/{draft.Id}/review", new ReviewInput(true, null))).OkJsonAsync<ResourceDto>();
    }

    [Fact]
    public async Task A_two_character_word_finds_the_planted_resource_among_100k()
    {
        using var admin = await server.AsAdminAsync();
        // 100,000 published copies of an ordinary resource share its tokens: a token table of millions of rows.
        var template = await PublishAsync(admin, Input("普通车辆", "常规", "车辆"));
        var planted = await PublishAsync(admin, Input("麒麟档案", "专项", "档案"));

        var watch = Stopwatch.StartNew();
        var templateId = await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>();
            return db.Set<CatalogResource>().Where(r => r.Slug == template.Id).Select(r => r.Id).Single();
        });
        var cloned = await server.InScopeAsync(sp => sp.GetRequiredService<CatalogBulkLoad>().CloneAsync(templateId, 100_000, default));
        Assert.Equal(100_000, cloned);
        var tokenRows = await server.InScopeAsync(async sp =>
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.LongCountAsync(
                sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>().Set<CatalogSearchToken>()));
        output.WriteLine($"bulk insert: {watch.Elapsed.TotalSeconds:F1} s, {tokenRows} token rows");
        Assert.True(tokenRows > 1_000_000);

        watch.Restart();
        var found = await (await admin.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("麒麟"))).OkJsonAsync<SearchResult>();
        output.WriteLine($"rare word: {watch.ElapsedMilliseconds} ms");
        Assert.Equal(1, found.Total);
        Assert.Equal(planted.Id, found.Results.Single().Id);

        // A common word matches every copy; the page and the facets still answer.
        watch.Restart();
        var common = await (await admin.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("车辆") + "&pageSize=5")).OkJsonAsync<SearchResult>();
        output.WriteLine($"common word: {watch.ElapsedMilliseconds} ms");
        Assert.True(common.Total > 100_000);
        Assert.Equal(5, common.Results.Count);
        Assert.Equal(common.Total, common.Facets["department"].Sum(f => f.Count));

        // Both words together narrow to nothing: each token is an independent EXISTS.
        var both = await (await admin.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("麒麟 车辆"))).OkJsonAsync<SearchResult>();
        Assert.Equal(0, both.Total);
    }
}
