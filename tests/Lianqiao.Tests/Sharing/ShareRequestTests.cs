using System.Net;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Sharing;

/// <summary>The demo city with its catalog: the journeys' resources exist.</summary>
public sealed class CatalogServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Lianqiao.Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-", StringComparison.Ordinal);
}

public sealed class ShareRequestTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    async Task<Guid> AppAsync(string name) => await server.AppIdAsync(name);

    object PopulationRequest(Guid appId, string[]? fields = null) => new
    {
        resourceId = "population-basic",
        appId,
        fields = fields ?? ["name", "id_number", "birth_date"],
        purpose = "社保待遇资格认证",
        legalBasis = "《社会保险法》第七十四条",
        scenario = "养老金领取资格核验",
        validDays = 180,
    };

    [Fact]
    public async Task Conditional_application_waits_for_the_provider_and_the_approver_grants_it()
    {
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", PopulationRequest(await AppAsync("人社业务系统")))).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Pending, submitted.Status);
        Assert.NotNull(submitted.Deadline);
        Assert.Null(submitted.GrantId);

        // Another department's approver may not decide; the provider's may.
        using var otherApprover = await server.AsUserAsync("market-steward");
        await (await otherApprover.PostAsync($"/api/v1/share-requests/{submitted.Id}/approve", null)).ProblemAsync(404);

        using var approver = await server.AsUserAsync("police-approver");
        var inbox = await (await approver.GetAsync("/api/v1/share-requests?side=provider&status=Pending")).OkJsonAsync<List<ShareRequestDto>>();
        Assert.Contains(inbox, r => r.Id == submitted.Id);
        var approved = await (await approver.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/approve",
            new { unmaskedFields = new[] { "birth_date" }, quotaPerDay = 10000, comment = "同意" })).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Approved, approved.Status);
        Assert.NotNull(approved.GrantId);

        var grants = await (await hrss.GetAsync("/api/v1/grants?resourceId=population-basic")).OkJsonAsync<List<GrantDto>>();
        var grant = Assert.Single(grants, g => g.Id == approved.GrantId);
        Assert.Equal(["name", "id_number", "birth_date"], grant.Fields);
        Assert.Equal(["birth_date"], grant.UnmaskedFields);
        Assert.Equal(10000, grant.QuotaPerDay);
        Assert.True(grant.Active);

        Assert.Contains(await server.AuditAsync("share-request.submit"), r => r.TargetId == submitted.Id.ToString() && r.ActorName == "hrss-consumer");
        Assert.Contains(await server.AuditAsync("share-request.approve"), r => r.TargetId == submitted.Id.ToString() && r.ActorName == "police-approver");
        Assert.Contains(await server.AuditAsync("grant.issue"), r => r.TargetId == approved.GrantId.ToString());
    }

    [Fact]
    public async Task Unconditional_resource_is_granted_at_once()
    {
        using var medical = await server.AsUserAsync("medical-consumer");
        var submitted = await (await medical.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = "legal-entity-basic", appId = await AppAsync("医保业务系统"), fields = new[] { "credit_code", "entity_name" },
            purpose = "参保单位信息同步",
        })).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Approved, submitted.Status);
        Assert.NotNull(submitted.GrantId);
    }

    [Fact]
    public async Task Two_approvers_deciding_at_once_one_wins_and_the_other_gets_a_conflict()
    {
        using var admin = await server.AsAdminAsync();
        await (await admin.PostJsonAsync("/api/v1/users", new { userName = "police-approver-2", displayName = "公安审批人二", departmentId = await DeptAsync("市公安局"), roles = new[] { Roles.Approver } })).OkJsonAsync<CreatedUserDto>();
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", PopulationRequest(await AppAsync("人社业务系统")))).OkJsonAsync<ShareRequestDto>();

        using var first = await server.AsUserAsync("police-approver");
        using var second = await server.AsUserAsync("police-approver-2");
        var answers = await Task.WhenAll(
            first.PostAsync($"/api/v1/share-requests/{submitted.Id}/approve", null),
            second.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/refuse", new { reason = "用途不明确" }));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        var loser = Assert.Single(answers, a => a.StatusCode != HttpStatusCode.OK);
        Assert.Equal("already-decided", (await loser.ProblemAsync(409)).Code);
        var grants = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<Grant>().CountAsync(g => g.ShareRequestId == submitted.Id));
        Assert.True(grants <= 1);
    }

    [Fact]
    public async Task Refusal_needs_a_reason_and_invalid_applications_report_every_error()
    {
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var bad = await hrss.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = "population-basic", appId = await AppAsync("人社业务系统"), fields = new[] { "name", "no_such_field" }, validDays = 99999,
        });
        var problem = await bad.ProblemAsync(400);
        Assert.Equal(["fields", "legalBasis", "purpose", "validDays"], problem.Errors!.Keys.Order().ToArray());

        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", PopulationRequest(await AppAsync("人社业务系统")))).OkJsonAsync<ShareRequestDto>();
        using var approver = await server.AsUserAsync("police-approver");
        Assert.Contains("reason", (await (await approver.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/refuse", new { reason = " " })).ProblemAsync(400)).Errors!.Keys);
        var refused = await (await approver.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/refuse", new { reason = "超出职责范围" })).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Refused, refused.Status);
        Assert.Equal("超出职责范围", refused.DecisionComment);
    }

    [Fact]
    public async Task Not_shared_resource_takes_no_application_but_a_demand()
    {
        var notShared = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<CatalogResource>()
            .Where(r => r.ShareType == CatalogRules.NotShared && r.Status == ResourceStatus.Published && r.RevisionOf == null)
            .Select(r => r.Slug).FirstAsync());
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var refused = await hrss.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = notShared, appId = await AppAsync("人社业务系统"), fields = new[] { "x" }, purpose = "p", legalBasis = "b",
        });
        Assert.Equal("not-shared", (await refused.ProblemAsync(409)).Code);

        var demand = await (await hrss.PostJsonAsync("/api/v1/demands", new { title = "需要该数据的汇总统计", aboutResourceId = notShared })).OkJsonAsync<DataDemandDto>();
        using var admin = await server.AsAdminAsync();
        var routed = await (await admin.PostJsonAsync($"/api/v1/demands/{demand.Id}/route", new { departmentId = await DeptAsync("市公安局") })).OkJsonAsync<DataDemandDto>();
        Assert.Equal(DemandStatus.Routed, routed.Status);
        using var police = await server.AsUserAsync("police-steward");
        var answered = await (await police.PostJsonAsync($"/api/v1/demands/{demand.Id}/answer", new { resourceId = "population-basic", answer = "请申请人口基础信息" })).OkJsonAsync<DataDemandDto>();
        Assert.Equal(DemandStatus.Answered, answered.Status);
    }

    [Fact]
    public async Task Withdrawn_application_cannot_be_approved_and_renewal_starts_a_new_one()
    {
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", PopulationRequest(await AppAsync("人社业务系统")))).OkJsonAsync<ShareRequestDto>();
        var withdrawn = await (await hrss.PostAsync($"/api/v1/share-requests/{submitted.Id}/withdraw", null)).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Withdrawn, withdrawn.Status);
        using var approver = await server.AsUserAsync("police-approver");
        await (await approver.PostAsync($"/api/v1/share-requests/{submitted.Id}/approve", null)).ProblemAsync(409);

        var renewed = await (await hrss.PostAsync($"/api/v1/share-requests/{submitted.Id}/renew", null)).OkJsonAsync<ShareRequestDto>();
        Assert.Equal(ShareRequestStatus.Pending, renewed.Status);
        Assert.Equal(submitted.Id, renewed.RenewalOf);
    }

    [Fact]
    public async Task Revoked_grant_is_inactive_and_only_the_provider_may_revoke()
    {
        using var medical = await server.AsUserAsync("medical-consumer");
        var submitted = await (await medical.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = "legal-entity-basic", appId = await AppAsync("医保业务系统"), fields = new[] { "credit_code" }, purpose = "同步",
        })).OkJsonAsync<ShareRequestDto>();
        await (await medical.PostJsonAsync($"/api/v1/grants/{submitted.GrantId}/revoke", new { reason = "x" })).ProblemAsync(403);
        using var market = await server.AsUserAsync("market-steward");
        Assert.Equal(HttpStatusCode.NoContent, (await market.PostJsonAsync($"/api/v1/grants/{submitted.GrantId}/revoke", new { reason = "停止合作" })).StatusCode);
        var grants = await (await medical.GetAsync("/api/v1/grants?resourceId=legal-entity-basic")).OkJsonAsync<List<GrantDto>>();
        Assert.False(grants.Single(g => g.Id == submitted.GrantId).Active);
    }

    async Task<Guid> DeptAsync(string name) =>
        await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<Department>().Where(d => d.Name == name).Select(d => d.Id).SingleAsync());
}
