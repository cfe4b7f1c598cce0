using System.Net;
using System.Net.Http.Json;
using System.Text;
using Lianqiao.Organizations;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Organizations;

public sealed class KeysAndDepartmentsTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    const string ValidButUnusedCode = "91320700MA1X2Y3K5L";

    [Fact]
    public async Task Admin_key_lists_departments()
    {
        using var client = await server.AsAdminAsync();
        var departments = await (await client.GetAsync("/api/v1/departments")).OkJsonAsync<List<DepartmentDto>>();
        Assert.Contains(departments, d => d.Name == LianqiaoServer.OwnDepartment);
        Assert.All(departments, d => Assert.True(Lianqiao.Domain.Codes.UnifiedSocialCreditCode.Validate(d.Code).IsValid, d.Code));
    }

    [Fact]
    public async Task Bare_authorization_header_is_accepted_like_ckan_clients_send_it()
    {
        var key = await server.UserKeyAsync(AccountService.AdminUserName);
        using var client = server.Anonymous();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Invalid_credit_code_is_rejected_with_every_error_and_nothing_is_written()
    {
        using var client = await server.AsAdminAsync();
        var before = (await (await client.GetAsync("/api/v1/departments")).OkJsonAsync<List<DepartmentDto>>()).Count;
        var response = await client.PostJsonAsync("/api/v1/departments", new { name = "", code = "91320700MA1X2Y3Z4A", parentId = Guid.NewGuid() });
        var problem = await response.ProblemAsync(400);
        Assert.Equal("validation", problem.Code);
        Assert.Equal(["code", "name", "parentId"], problem.Errors!.Keys.Order().ToArray());
        var after = (await (await client.GetAsync("/api/v1/departments")).OkJsonAsync<List<DepartmentDto>>()).Count;
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Valid_department_is_created_and_audited()
    {
        using var client = await server.AsAdminAsync();
        var response = await client.PostJsonAsync("/api/v1/departments", new { name = "市测试局", code = ValidButUnusedCode, level = "Municipal" });
        var created = await response.OkJsonAsync<DepartmentDto>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(ValidButUnusedCode, created.Code);
        Assert.Contains(await server.AuditAsync("department.create"), r => r.TargetId == created.Id.ToString());

        var duplicate = await client.PostJsonAsync("/api/v1/departments", new { name = "市另一个局", code = ValidButUnusedCode });
        var problem = await duplicate.ProblemAsync(400);
        Assert.Contains("code", problem.Errors!.Keys);
    }

    [Fact]
    public async Task Malformed_json_gets_problem_details()
    {
        using var client = await server.AsAdminAsync();
        var response = await client.PostAsync("/api/v1/departments", new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        await response.ProblemAsync(400);
    }

    [Fact]
    public async Task Oversized_body_gets_413_problem_details()
    {
        using var client = await server.AsAdminAsync();
        var huge = "{\"name\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        var response = await client.PostAsync("/api/v1/departments", new StringContent(huge, Encoding.UTF8, "application/json"));
        await response.ProblemAsync(413);
    }

    [Fact]
    public async Task Duplicate_user_name_is_a_conflict_and_creates_nothing()
    {
        using var client = await server.AsAdminAsync();
        var first = await client.PostJsonAsync("/api/v1/users", new { userName = "dup-user", displayName = "甲", departmentId = server.OwnDepartmentId, roles = new[] { Roles.Consumer } });
        var created = await first.OkJsonAsync<CreatedUserDto>();
        Assert.True(created.Password.Length >= 12);
        var second = await client.PostJsonAsync("/api/v1/users", new { userName = "dup-user", displayName = "乙", departmentId = server.OwnDepartmentId, roles = new[] { Roles.Consumer } });
        var problem = await second.ProblemAsync(409);
        Assert.Equal("user-name-taken", problem.Code);
        var users = await (await client.GetAsync($"/api/v1/departments/{server.OwnDepartmentId}/users")).OkJsonAsync<List<UserDto>>();
        Assert.Single(users, u => u.UserName == "dup-user");
        Assert.Equal("甲", users.Single(u => u.UserName == "dup-user").DisplayName);
    }

    [Fact]
    public async Task Wrong_key_gets_401_problem()
    {
        using var client = server.WithKey("lq_this-key-does-not-exist");
        await (await client.GetAsync("/api/v1/departments")).ProblemAsync(401);
    }

    [Fact]
    public async Task Expired_key_is_refused()
    {
        var key = await server.InScopeAsync(async sp =>
        {
            var admin = await sp.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<User>>().FindByNameAsync(AccountService.AdminUserName);
            var time = new FixedTime(DateTimeOffset.UtcNow.AddDays(-10));
            var keys = new KeyService(sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>(), sp.GetRequiredService<Lianqiao.Audit.IAuditLog>(), time,
                sp.GetRequiredService<Microsoft.Extensions.Caching.Memory.IMemoryCache>());
            return (await keys.IssueAsync(PrincipalKind.User, admin!.Id, "short", TimeSpan.FromDays(1),
                new Lianqiao.Audit.AuditEntry("key.issue") { ActorKind = "System" }, default)).Secret;
        });
        using var client = server.WithKey(key);
        await (await client.GetAsync("/api/v1/me")).ProblemAsync(401);
    }

    [Fact]
    public async Task Revoked_app_key_stops_working_at_once_on_another_node()
    {
        using var admin = await server.AsAdminAsync();
        var appId = await server.AppIdAsync("t-app");
        var issued = await (await admin.PostJsonAsync($"/api/v1/apps/{appId}/keys", new { name = "node-test", daysValid = 30 })).OkJsonAsync<IssuedKeyDto>();
        Assert.StartsWith("lq_", issued.Secret);

        var secondNode = await server.StartHostAsync();
        using var onSecond = server.WithKey(issued.Secret, LianqiaoServer.UrlOf(secondNode));
        var me = await (await onSecond.GetAsync("/api/v1/me")).OkJsonAsync<MeDto>();
        Assert.Equal(PrincipalKind.Application, me.Kind);
        Assert.Equal(server.OwnDepartmentId, me.DepartmentId);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{issued.Key.Id}")).StatusCode);
        // The node that revoked forgets the key at once; another node within ApiKeyAuthenticationHandler.CacheFor (1 s).
        using var onFirst = server.WithKey(issued.Secret);
        await (await onFirst.GetAsync("/api/v1/me")).ProblemAsync(401);
        await Task.Delay(ApiKeyAuthenticationHandler.CacheFor + TimeSpan.FromMilliseconds(100));
        await (await onSecond.GetAsync("/api/v1/me")).ProblemAsync(401);

        var audit = await server.AuditAsync("key.revoke");
        Assert.Contains(audit, r => r.TargetId == issued.Key.Id.ToString() && r.ActorName == AccountService.AdminUserName);
        Assert.Contains(await server.AuditAsync("key.issue"), r => r.TargetId == issued.Key.Id.ToString());
    }

    [Fact]
    public async Task Steward_cannot_manage_another_departments_applications()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var otherApp = await server.AppIdAsync("t-other-app");
        await (await steward.PostJsonAsync($"/api/v1/apps/{otherApp}/keys", new { name = "x" })).ProblemAsync(403);
        var ownApp = await server.AppIdAsync("t-app");
        var issued = await (await steward.PostJsonAsync($"/api/v1/apps/{ownApp}/keys", new { name = "ok" })).OkJsonAsync<IssuedKeyDto>();
        var listed = await (await steward.GetAsync($"/api/v1/apps/{ownApp}/keys")).OkJsonAsync<List<ApiKeyDto>>();
        Assert.Contains(listed, k => k.Id == issued.Key.Id && k.Active);
        Assert.DoesNotContain("Secret", await (await steward.GetAsync($"/api/v1/apps/{ownApp}/keys")).Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Sign_in_success_and_failure_are_audited()
    {
        using var client = server.Anonymous();
        var loginPage = await client.GetStringAsync("/login");
        var token = System.Text.RegularExpressions.Regex.Match(loginPage, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var bad = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["userName"] = "t-consumer", ["password"] = "wrong-password-123",
        }));
        Assert.Equal(HttpStatusCode.Redirect, bad.StatusCode);
        Assert.Contains("error=invalid", bad.Headers.Location!.ToString());

        var password = await (await (await server.AsAdminAsync()).PostAsync(
            $"/api/v1/users/{await UserIdAsync("t-approver")}/password-reset", null)).OkJsonAsync<CreatedAccount>();
        var good = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["userName"] = "t-approver", ["password"] = password.Password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, good.StatusCode);
        Assert.Equal("/", good.Headers.Location!.ToString());
        var me = await (await client.GetAsync("/api/v1/me")).OkJsonAsync<MeDto>();
        Assert.Equal(server.OwnDepartmentId, me.DepartmentId);

        var records = await server.AuditAsync("auth.sign-in");
        Assert.Contains(records, r => r.ActorName == "t-consumer" && r.Outcome == "failure");
        Assert.Contains(records, r => r.ActorName == "t-approver" && r.Outcome == "success");
    }

    async Task<string> UserIdAsync(string userName)
    {
        using var admin = await server.AsAdminAsync();
        var users = await (await admin.GetAsync($"/api/v1/departments/{server.OwnDepartmentId}/users")).OkJsonAsync<List<UserDto>>();
        return users.Single(u => u.UserName == userName).Id;
    }

    [Fact]
    public async Task Login_without_antiforgery_token_is_refused()
    {
        using var client = server.Anonymous();
        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userName"] = "admin", ["password"] = "whatever-password",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
