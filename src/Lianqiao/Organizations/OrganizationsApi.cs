using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Domain.Codes;
using Lianqiao.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Organizations;

public sealed record DepartmentInput(string? Name, string? Code, Guid? ParentId, DepartmentLevel? Level);
public sealed record UserInput(string? UserName, string? DisplayName, Guid? DepartmentId, string[]? Roles);
public sealed record RolesInput(string[]? Roles);
public sealed record AppInput(string? Name, string? Description);
public sealed record KeyInput(string? Name, int? DaysValid);
public sealed record CreatedUserDto(UserDto User, string Password);
public sealed record MeDto(PrincipalKind Kind, string Id, string Name, Guid? DepartmentId, IReadOnlyList<string> Roles);

internal static class OrganizationsApi
{
    public static void MapOrganizationsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").WithTags("Organizations");

        api.MapGet("/me", (HttpContext http) =>
        {
            var c = http.User.Caller();
            return TypedResults.Ok(new MeDto(c.Kind, c.Id, c.Name, c.DepartmentId, c.Roles.Order().ToList()));
        }).RequireAuthorization(Policies.SignedIn);

        var departments = api.MapGroup("/departments").RequireAuthorization(Policies.Member);
        departments.MapGet("/", async (LianqiaoDb db, CancellationToken ct) =>
            TypedResults.Ok(await db.Set<Department>().AsNoTracking().OrderBy(d => d.Name).Select(d => d.AsDto()).ToListAsync(ct)));
        departments.MapGet("/{id:guid}", GetDepartment);
        departments.MapPost("/", CreateDepartment).RequireAuthorization(Policies.PlatformAdmin);
        departments.MapPut("/{id:guid}", UpdateDepartment).RequireAuthorization(Policies.PlatformAdmin);
        departments.MapGet("/{departmentId:guid}/users", ListUsers);
        departments.MapGet("/{departmentId:guid}/apps", ListApps);
        departments.MapPost("/{departmentId:guid}/apps", CreateApp);

        var users = api.MapGroup("/users").RequireAuthorization(Policies.PlatformAdmin);
        users.MapPost("/", CreateUser);
        users.MapPut("/{userId}/roles", SetRoles);
        users.MapPost("/{userId}/password-reset", ResetPassword);

        api.MapGet("/apps/{appId:guid}/keys", ListAppKeys).RequireAuthorization(Policies.Member);
        api.MapPost("/apps/{appId:guid}/keys", IssueAppKey).RequireAuthorization(Policies.Member);
        api.MapGet("/me/keys", ListMyKeys).RequireAuthorization(Policies.SignedIn);
        api.MapPost("/me/keys", IssueMyKey).RequireAuthorization(Policies.SignedIn);
        api.MapDelete("/keys/{keyId:guid}", RevokeKey).RequireAuthorization(Policies.SignedIn);
    }

    static async Task<Results<Ok<DepartmentDto>, ProblemHttpResult>> GetDepartment(Guid id, LianqiaoDb db, CancellationToken ct) =>
        await db.Set<Department>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct) is { } d
            ? TypedResults.Ok(d.AsDto())
            : Problems.NotFound("部门", "department");

    static async Task<Dictionary<string, string[]>> ValidateAsync(DepartmentInput input, Guid? self, LianqiaoDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 200)
            errors["name"] = ["部门名称必填，最多 200 字 / name is required, at most 200 characters"];
        var code = UnifiedSocialCreditCode.Validate(input.Code);
        if (!code.IsValid) errors["code"] = [$"{code.MessageZh} / {code.MessageEn}"];
        else if (await db.Set<Department>().AnyAsync(d => d.Code == code.Value && d.Id != self, ct))
            errors["code"] = ["统一社会信用代码已被其他部门使用 / another department has this code"];
        if (input.ParentId is { } parent && (parent == self || !await db.Set<Department>().AnyAsync(d => d.Id == parent, ct)))
            errors["parentId"] = ["上级部门不存在 / parent department does not exist"];
        return errors;
    }

    static async Task<Results<Created<DepartmentDto>, ProblemHttpResult>> CreateDepartment(
        DepartmentInput input, LianqiaoDb db, IAuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var errors = await ValidateAsync(input, null, db, ct);
        if (errors.Count > 0) return Problems.Validation(errors);
        var department = new Department
        {
            Name = input.Name!.Trim(),
            Code = UnifiedSocialCreditCode.Validate(input.Code).Value!,
            ParentId = input.ParentId,
            Level = input.Level ?? DepartmentLevel.Municipal,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(department);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "department.create", "department", department.Id.ToString(), department.AsDto()), ct);
        return TypedResults.Created($"/api/v1/departments/{department.Id}", department.AsDto());
    }

    static async Task<Results<Ok<DepartmentDto>, ProblemHttpResult>> UpdateDepartment(
        Guid id, DepartmentInput input, LianqiaoDb db, IAuditLog audit, HttpContext http, CancellationToken ct)
    {
        var department = await db.Set<Department>().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (department is null) return Problems.NotFound("部门", "department");
        var errors = await ValidateAsync(input, id, db, ct);
        if (errors.Count > 0) return Problems.Validation(errors);
        department.Name = input.Name!.Trim();
        department.Code = UnifiedSocialCreditCode.Validate(input.Code).Value!;
        department.ParentId = input.ParentId;
        department.Level = input.Level ?? department.Level;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "department.update", "department", id.ToString(), department.AsDto()), ct);
        return TypedResults.Ok(department.AsDto());
    }

    static async Task<Results<Ok<List<UserDto>>, ProblemHttpResult>> ListUsers(
        Guid departmentId, HttpContext http, LianqiaoDb db, AccountService accounts, CancellationToken ct)
    {
        if (!http.User.Caller().ActsFor(departmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards and platform admins list its users.");
        var list = await db.Users.AsNoTracking().Where(u => u.DepartmentId == departmentId).OrderBy(u => u.UserName).ToListAsync(ct);
        var result = new List<UserDto>(list.Count);
        foreach (var u in list) result.Add(await accounts.ToDtoAsync(u));
        return TypedResults.Ok(result);
    }

    static async Task<Results<Created<CreatedUserDto>, ProblemHttpResult>> CreateUser(
        UserInput input, AccountService accounts, UserManager<User> users, HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.UserName) || input.UserName.Length > 64)
            errors["userName"] = ["用户名必填，最多 64 字符 / userName is required, at most 64 characters"];
        if (string.IsNullOrWhiteSpace(input.DisplayName))
            errors["displayName"] = ["姓名必填 / displayName is required"];
        if (errors.Count > 0) return Problems.Validation(errors);
        if (await users.FindByNameAsync(input.UserName!.Trim()) is not null)
            return Problems.Conflict("user-name-taken", "用户名已存在", "A user with this user name exists already.");
        var (account, createErrors) = await accounts.CreateAsync(input.UserName!.Trim(), input.DisplayName!.Trim(),
            input.DepartmentId, input.Roles ?? [], AuditEntry.For(http, "user.create"));
        if (account is null) return Problems.Validation(createErrors);
        var user = (await users.FindByNameAsync(account.UserName))!;
        return TypedResults.Created($"/api/v1/users/{user.Id}", new CreatedUserDto(await accounts.ToDtoAsync(user), account.Password));
    }

    static async Task<Results<Ok<UserDto>, ProblemHttpResult>> SetRoles(
        string userId, RolesInput input, UserManager<User> users, AccountService accounts, IAuditLog audit, HttpContext http)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null) return Problems.NotFound("用户", "user");
        var wanted = (input.Roles ?? []).Distinct().ToList();
        var unknown = wanted.Where(r => !Roles.All.Contains(r)).ToList();
        if (unknown.Count > 0) return Problems.Validation(new Dictionary<string, string[]> { ["roles"] = [$"未知角色 / unknown roles: {string.Join(", ", unknown)}"] });
        var current = await users.GetRolesAsync(user);
        await users.RemoveFromRolesAsync(user, current.Except(wanted));
        await users.AddToRolesAsync(user, wanted.Except(current));
        await audit.WriteAsync(AuditEntry.For(http, "role.change", "user", user.Id, new { before = current, after = wanted }));
        return TypedResults.Ok(await accounts.ToDtoAsync(user));
    }

    static async Task<Results<Ok<CreatedAccount>, ProblemHttpResult>> ResetPassword(string userId, UserManager<User> users, AccountService accounts, HttpContext http)
    {
        var user = await users.FindByIdAsync(userId);
        if (user?.UserName is null) return Problems.NotFound("用户", "user");
        var password = await accounts.ResetPasswordAsync(user.UserName, AuditEntry.For(http, "user.password-reset"));
        return TypedResults.Ok(new CreatedAccount(user.UserName, password!));
    }

    static async Task<Results<Ok<List<ConsumerAppDto>>, ProblemHttpResult>> ListApps(Guid departmentId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        if (!http.User.Caller().ActsFor(departmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards and platform admins see its applications.");
        return TypedResults.Ok(await db.Set<ConsumerApp>().AsNoTracking().Where(a => a.DepartmentId == departmentId)
            .OrderBy(a => a.Name).Select(a => a.AsDto()).ToListAsync(ct));
    }

    static async Task<Results<Created<ConsumerAppDto>, ProblemHttpResult>> CreateApp(
        Guid departmentId, AppInput input, HttpContext http, LianqiaoDb db, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (!http.User.Caller().ActsFor(departmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards and platform admins register its applications.");
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 200)
            return Problems.Validation(new Dictionary<string, string[]> { ["name"] = ["应用名称必填，最多 200 字 / name is required, at most 200 characters"] });
        if (!await db.Set<Department>().AnyAsync(d => d.Id == departmentId, ct)) return Problems.NotFound("部门", "department");
        if (await db.Set<ConsumerApp>().AnyAsync(a => a.DepartmentId == departmentId && a.Name == input.Name.Trim(), ct))
            return Problems.Conflict("app-name-taken", "本部门已有同名应用", "The department has an application with this name already.");
        var app = new ConsumerApp { DepartmentId = departmentId, Name = input.Name.Trim(), Description = input.Description?.Trim() ?? "", CreatedAt = time.GetUtcNow() };
        db.Add(app);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "app.create", "app", app.Id.ToString(), app.AsDto()), ct);
        return TypedResults.Created($"/api/v1/apps/{app.Id}", app.AsDto());
    }

    static async Task<ConsumerApp?> AppTheCallerManagesAsync(Guid appId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var app = await db.Set<ConsumerApp>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId, ct);
        return app is not null && http.User.Caller().ActsFor(app.DepartmentId, Roles.Steward) ? app : null;
    }

    static async Task<Results<Ok<List<ApiKeyDto>>, ProblemHttpResult>> ListAppKeys(Guid appId, HttpContext http, LianqiaoDb db, KeyService keys, CancellationToken ct) =>
        await AppTheCallerManagesAsync(appId, http, db, ct) is { } app
            ? TypedResults.Ok(await keys.ListAsync(PrincipalKind.Application, app.Id.ToString(), ct))
            : Problems.Forbidden("Only the application's department stewards and platform admins manage its keys.");

    static async Task<Results<Created<IssuedKeyDto>, ProblemHttpResult>> IssueAppKey(
        Guid appId, [FromBody] KeyInput? input, HttpContext http, LianqiaoDb db, KeyService keys, CancellationToken ct)
    {
        var app = await AppTheCallerManagesAsync(appId, http, db, ct);
        if (app is null) return Problems.Forbidden("Only the application's department stewards and platform admins manage its keys.");
        if (ValidateKeyInput(input) is { } problem) return problem;
        var issued = await keys.IssueAsync(PrincipalKind.Application, app.Id.ToString(), input?.Name ?? app.Name,
            input?.DaysValid is { } days ? TimeSpan.FromDays(days) : null, AuditEntry.For(http, "key.issue"), ct);
        return TypedResults.Created($"/api/v1/keys/{issued.Key.Id}", issued);
    }

    static async Task<Results<Ok<List<ApiKeyDto>>, ProblemHttpResult>> ListMyKeys(HttpContext http, KeyService keys, CancellationToken ct)
    {
        var c = http.User.Caller();
        return TypedResults.Ok(await keys.ListAsync(c.Kind, c.Id, ct));
    }

    static async Task<Results<Created<IssuedKeyDto>, ProblemHttpResult>> IssueMyKey([FromBody] KeyInput? input, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var c = http.User.Caller();
        // Applications get keys from their stewards; a key must not mint further keys for itself.
        if (c.Kind == PrincipalKind.Application) return Problems.Forbidden("Application keys are issued by the application's stewards.");
        if (ValidateKeyInput(input) is { } problem) return problem;
        var issued = await keys.IssueAsync(c.Kind, c.Id, input?.Name ?? "personal",
            input?.DaysValid is { } days ? TimeSpan.FromDays(days) : null, AuditEntry.For(http, "key.issue"), ct);
        return TypedResults.Created($"/api/v1/keys/{issued.Key.Id}", issued);
    }

    static ProblemHttpResult? ValidateKeyInput(KeyInput? input)
    {
        var errors = new Dictionary<string, string[]>();
        if (input?.DaysValid is < 1 or > 3650) errors["daysValid"] = ["有效期为 1 至 3650 天 / daysValid must be 1 to 3650"];
        if (input?.Name is { Length: > 100 }) errors["name"] = ["名称最多 100 字 / name is at most 100 characters"];
        return errors.Count > 0 ? Problems.Validation(errors) : null;
    }

    static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(Guid keyId, HttpContext http, LianqiaoDb db, KeyService keys, CancellationToken ct)
    {
        var key = await db.Set<ApiKey>().AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId, ct);
        if (key is null) return Problems.NotFound("密钥", "key");
        var caller = http.User.Caller();
        var allowed = caller.IsAdmin || (key.OwnerKind == caller.Kind && key.OwnerId == caller.Id);
        if (!allowed && key.OwnerKind == PrincipalKind.Application && Guid.TryParse(key.OwnerId, out var appId))
            allowed = await AppTheCallerManagesAsync(appId, http, db, ct) is not null;
        if (!allowed) return Problems.Forbidden("Only the key's owner, its application's stewards and platform admins revoke it.");
        await keys.RevokeAsync(keyId, AuditEntry.For(http, "key.revoke"), ct);
        return TypedResults.NoContent();
    }
}
