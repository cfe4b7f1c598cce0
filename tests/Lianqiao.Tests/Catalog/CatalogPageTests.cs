using System.Net.Http.Json;
using Lianqiao.Catalog;
using Lianqiao.Domain.Masking;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Catalog;

public sealed class CatalogPageTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    [Fact]
    public async Task The_resource_page_names_changed_fields_and_values_in_the_standards_terms()
    {
        using var admin = await server.AsAdminAsync();
        var input = new ResourceInput
        {
            Name = "页面差异展示", DepartmentId = server.OwnDepartmentId, Summary = "差异", ClassCode = "2", SubjectCode = "05", CatalogCode = "012",
            FormatCategory = "3", ShareType = "2", ShareCondition = "依法定职责共享", ShareMethodClass = "1", ShareMethodType = "1", OpenType = "3",
            UpdateCycle = "2", Library = "topic", ClassificationLevel = "general",
            Items = [new DataItemInput { Name = "姓名", DataType = "C", Length = 50, Sensitivity = "L3", Kind = ItemKind.PersonName }],
        };
        var draft = await (await admin.PostJsonAsync("/api/v1/catalog/", input)).OkJsonAsync<ResourceDto>();
        async Task PublishAsync(string comment)
        {
            await (await admin.PostJsonAsync($"/api/v1/catalog/{draft.Id}/submit", new CommentInput(null))).OkJsonAsync<ResourceDto>();
            await (await admin.PostJsonAsync($"/api/v1/catalog/{draft.Id}/review", new ReviewInput(true, comment))).OkJsonAsync<ResourceDto>();
        }
        await PublishAsync("首次发布");
        await (await admin.PostAsync($"/api/v1/catalog/{draft.Id}/versions", null)).OkJsonAsync<ResourceDto>();
        await (await admin.PutAsJsonAsync($"/api/v1/catalog/{draft.Id}", input with { ShareType = "1", ShareCondition = null }, HttpAssertions.Json))
            .OkJsonAsync<ResourceDto>();
        await PublishAsync("改为无条件共享");

        var page = await admin.GetStringAsync($"/catalog/{draft.Id}");
        var diff = page[page.IndexOf("id=\"diff\"", StringComparison.Ordinal)..];
        Assert.Contains("共享类型", diff);
        Assert.Contains("有条件共享", diff);
        Assert.Contains("无条件共享", diff);
        Assert.Contains("共享条件", diff);
        Assert.DoesNotContain(">shareType<", diff);
        Assert.Contains("通过并发布", page);
    }
}
