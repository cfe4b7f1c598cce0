using System.Text;
using Lianqiao.Catalog;
using Lianqiao.Datasets;
using Lianqiao.OpenData;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.OpenData;

/// <summary>
/// The demo catalog plus the open-data demo seed (bus data loaded), and test resources that must stay hidden
/// (不予开放, 核心, L4) or show masking, each with rows loaded and a marker string that must never leak.
/// </summary>
public sealed class OpenDataServer : LianqiaoServer, IAsyncLifetime
{
    public const string Marker = "机密标记";
    public const long CallsPerDay = 8;
    public static readonly string[] Hidden = ["open-test-closed", "open-test-core", "open-test-l4"];

    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal)
        || step.Id.StartsWith("p4-open/", StringComparison.Ordinal);

    protected override void Configure(WebApplicationBuilder builder)
    {
        builder.Configuration["Lianqiao:OpenData:DeveloperCallsPerDay"] = CallsPerDay.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = await AsAdminAsync();
        await PublishAsync(admin, Resource("open-test-closed", "3", "general", "L1"));
        await PublishAsync(admin, Resource("open-test-core", "1", CatalogRules.CoreLevel, "L1"));
        await PublishAsync(admin, Resource("open-test-l4", "1", "general", "L4"));
        await PublishAsync(admin, Resource("open-test-masked", "1", "general", "L2"));
        await PublishAsync(admin, Resource("open-test-conditional", "2", "general", "L3"));
        foreach (var slug in Hidden.Append("open-test-masked").Append("open-test-conditional"))
        {
            var csv = new StringBuilder("code,title,hotline,person\n");
            for (var i = 1; i <= 5; i++) csv.Append($"C{i},{Marker}{slug}-{i},1380013{i:0000},王{Marker}{i}\n");
            var response = await admin.PostAsync($"/api/v1/datasets/{slug}/loads?mode=replace", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
            var load = await response.OkJsonAsync<LoadDto>();
            Assert.True(load.Status == "succeeded" && load.RowsAccepted == 5, System.Text.Json.JsonSerializer.Serialize(load));
        }
    }

    /// <summary>A resource of <see cref="LianqiaoServer.OwnDepartment"/> (whose approver is t-approver): code and title L1, hotline L1 masked, person at <paramref name="personGrade"/> masked.</summary>
    internal ResourceInput Resource(string slug, string openType, string level, string personGrade) => new()
    {
        Slug = slug, ClassCode = "2", SubjectCode = "01", CatalogCode = "109", Name = $"开放测试{slug}{Marker}", DepartmentId = OwnDepartmentId,
        Summary = $"测试资源 {Marker} <script>alert('xss')</script>", FormatCategory = "2", FormatType = "csv", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "2",
        OpenType = openType, OpenCondition = openType == "2" ? "申请并签署协议" : null, UpdateCycle = "4", Library = "topic", ClassificationLevel = level,
        Tags = ["测试"], Keywords = ["开放测试"],
        Items =
        [
            new DataItemInput { Name = "编号", ColumnName = "code", DataType = "C", Length = 16, IsKey = true, Required = true, Sensitivity = "L1" },
            new DataItemInput { Name = "标题", ColumnName = "title", DataType = "C", Length = 100, Sensitivity = "L1" },
            new DataItemInput { Name = "热线", ColumnName = "hotline", DataType = "C", Length = 20, Sensitivity = "L1", MaskingRule = MaskingRules.KeepEnds, MaskKeepFirst = 3, MaskKeepLast = 2 },
            new DataItemInput { Name = "联系人", ColumnName = "person", DataType = "C", Length = 50, Sensitivity = personGrade, Kind = Domain.Masking.ItemKind.PersonName,
                MaskingRule = MaskingRules.KeepEnds, MaskKeepFirst = 1, MaskKeepLast = 0 },
        ],
    };

    internal static async Task PublishAsync(HttpClient admin, ResourceInput input)
    {
        await (await admin.PostJsonAsync("/api/v1/catalog/", input)).OkJsonAsync<ResourceDto>();
        await (await admin.PostJsonAsync($"/api/v1/catalog/{input.Slug}/submit", new CommentInput(null))).OkJsonAsync<ResourceDto>();
        var published = await (await admin.PostJsonAsync($"/api/v1/catalog/{input.Slug}/review", new ReviewInput(true, null))).OkJsonAsync<ResourceDto>();
        Assert.Equal(ResourceStatus.Published, published.Status);
    }

    /// <summary>Registers through the API, reads the link from the mail sink, verifies it, and returns the issued key.</summary>
    public async Task<string> RegisterDeveloperAsync(string email)
    {
        using var anonymous = Anonymous();
        var registered = await anonymous.PostJsonAsync("/open/api/v1/developers", new { email, displayName = "测试开发者" });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, registered.StatusCode);
        var token = await LastTokenAsync(email);
        var verified = await (await anonymous.PostJsonAsync("/open/api/v1/developers/verify", new { token })).OkJsonAsync<VerifiedDto>();
        Assert.StartsWith("lq_", verified.Key.Secret);
        return verified.Key.Secret;
    }

    public Task<string> LastTokenAsync(string email) => InScopeAsync(async sp =>
    {
        var mail = await sp.GetRequiredService<Data.LianqiaoDb>().Set<MailMessage>().AsNoTracking().Where(m => m.To == email)
            .OrderByDescending(m => m.CreatedAt).FirstAsync();
        var at = mail.Body.IndexOf("token=", StringComparison.Ordinal);
        return new string(mail.Body[(at + 6)..].TakeWhile(char.IsLetterOrDigit).ToArray());
    });
}
