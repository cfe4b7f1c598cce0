using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Organizations;

/// <summary>A department's consumer system (应用系统). Grants attach to these, never to people's personal keys.</summary>
public sealed class ConsumerApp
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DepartmentId { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public bool Disabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public ConsumerAppDto AsDto() => new(Id, DepartmentId, Name, Description, Disabled);
}

public sealed record ConsumerAppDto(Guid Id, Guid DepartmentId, string Name, string Description, bool Disabled);

/// <summary>A member of the public registered on the open portal, outside any department.</summary>
public sealed class Developer
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Email { get; set; }
    public required string DisplayName { get; set; }
    public bool EmailVerified { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class ConsumerAppConfiguration : IEntityTypeConfiguration<ConsumerApp>
{
    public void Configure(EntityTypeBuilder<ConsumerApp> b)
    {
        b.ToTable("consumer_apps");
        b.Property(a => a.Name).HasMaxLength(200);
        b.Property(a => a.Description).HasMaxLength(2000);
        b.HasIndex(a => new { a.DepartmentId, a.Name }).IsUnique();
        b.HasOne<Department>().WithMany().HasForeignKey(a => a.DepartmentId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class DeveloperConfiguration : IEntityTypeConfiguration<Developer>
{
    public void Configure(EntityTypeBuilder<Developer> b)
    {
        b.ToTable("developers");
        b.Property(d => d.Email).HasMaxLength(320);
        b.Property(d => d.DisplayName).HasMaxLength(100);
        b.HasIndex(d => d.Email).IsUnique();
    }
}
