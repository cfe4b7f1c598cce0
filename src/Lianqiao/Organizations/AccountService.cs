using Lianqiao.Audit;
using Lianqiao.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Organizations;

public sealed record CreatedAccount(string UserName, string Password);

/// <summary>Creates users and resets passwords. Passwords are always random and shown once; there is no default password.</summary>
internal sealed class AccountService(UserManager<User> users, RoleManager<IdentityRole> roles, LianqiaoDb db, IAuditLog audit, TimeProvider time)
{
    public const string AdminUserName = "admin";

    public async Task EnsureRolesAsync()
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role)) await roles.CreateAsync(new IdentityRole(role));
        }
    }

    /// <summary>Creates the platform admin on first start; returns its password, or null when it exists already.</summary>
    public async Task<CreatedAccount?> EnsureAdminAsync()
    {
        await EnsureRolesAsync();
        if (await users.FindByNameAsync(AdminUserName) is not null) return null;
        var result = await CreateAsync(AdminUserName, "平台管理员", null, [Roles.PlatformAdmin], new AuditEntry("user.create") { ActorKind = "System", ActorName = "first start" });
        return result.Account;
    }

    public async Task<(CreatedAccount? Account, IReadOnlyDictionary<string, string[]> Errors)> CreateAsync(
        string userName, string displayName, Guid? departmentId, IReadOnlyList<string> roleNames, AuditEntry auditAs)
    {
        var errors = new Dictionary<string, string[]>();
        var unknownRoles = roleNames.Where(r => !Roles.All.Contains(r)).ToArray();
        if (unknownRoles.Length > 0) errors["roles"] = [$"未知角色 / unknown roles: {string.Join(", ", unknownRoles)}"];
        if (departmentId is { } d && !await db.Set<Department>().AnyAsync(x => x.Id == d))
            errors["departmentId"] = ["部门不存在 / department does not exist"];
        if (roleNames.Any(r => r != Roles.PlatformAdmin && r != Roles.Auditor) && departmentId is null)
            errors["departmentId"] = ["该角色必须属于某个部门 / these roles need a department"];
        if (await users.FindByNameAsync(userName) is not null)
            errors["userName"] = ["用户名已存在 / user name is taken"];
        if (errors.Count > 0) return (null, errors);

        var password = Passwords.NewRandom();
        var user = new User { UserName = userName, DisplayName = displayName, DepartmentId = departmentId, CreatedAt = time.GetUtcNow() };
        await using var tx = await db.Database.BeginTransactionAsync();
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded) return (null, new Dictionary<string, string[]> { ["userName"] = created.Errors.Select(e => $"{e.Code}: {e.Description}").ToArray() });
        if (roleNames.Count > 0)
        {
            var added = await users.AddToRolesAsync(user, roleNames.Distinct());
            if (!added.Succeeded) return (null, new Dictionary<string, string[]> { ["roles"] = added.Errors.Select(e => e.Description).ToArray() });
        }
        await tx.CommitAsync();
        await audit.WriteAsync(auditAs with { TargetType = "user", TargetId = user.Id, Detail = new { userName, roles = roleNames, departmentId } });
        return (new CreatedAccount(userName, password), errors);
    }

    public async Task<string?> ResetPasswordAsync(string userName, AuditEntry auditAs)
    {
        var user = await users.FindByNameAsync(userName);
        if (user is null) return null;
        var password = Passwords.NewRandom();
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var result = await users.ResetPasswordAsync(user, token, password);
        if (!result.Succeeded) throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        await users.SetLockoutEndDateAsync(user, null);
        await audit.WriteAsync(auditAs with { Action = "user.password-reset", TargetType = "user", TargetId = user.Id });
        return password;
    }

    public async Task<UserDto> ToDtoAsync(User user) =>
        new(user.Id, user.UserName ?? "", user.DisplayName, user.DepartmentId, (await users.GetRolesAsync(user)).Order().ToList());
}
