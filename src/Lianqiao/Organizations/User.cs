using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Organizations;

/// <summary>A person who signs in. Passwords and lockout are ASP.NET Core Identity's.</summary>
public sealed class User : IdentityUser
{
    public string DisplayName { get; set; } = "";
    public Guid? DepartmentId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed record UserDto(string Id, string UserName, string DisplayName, Guid? DepartmentId, IReadOnlyList<string> Roles);

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> b)
    {
        b.Property(u => u.DisplayName).HasMaxLength(100);
        b.HasOne<Department>().WithMany().HasForeignKey(u => u.DepartmentId).OnDelete(DeleteBehavior.Restrict);
    }
}

/// <summary>The five roles of the platform. Applications and developers are principals of their own kind, not roles.</summary>
public static class Roles
{
    public const string PlatformAdmin = "platform-admin";
    public const string Steward = "steward";
    public const string Approver = "approver";
    public const string Auditor = "auditor";
    public const string Consumer = "consumer";

    public static readonly IReadOnlyList<string> All = [PlatformAdmin, Steward, Approver, Auditor, Consumer];

    public static string Label(string role) => role switch
    {
        PlatformAdmin => "平台管理员",
        Steward => "部门数据管理员",
        Approver => "审批人",
        Auditor => "审计员",
        Consumer => "使用方",
        _ => role,
    };
}
