using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Organizations;

public enum DepartmentLevel { Municipal, District, Township }

public sealed class Department
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    /// <summary>统一社会信用代码 (GB 32100), checked on every write.</summary>
    public required string Code { get; set; }
    public Guid? ParentId { get; set; }
    public DepartmentLevel Level { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public DepartmentDto AsDto() => new(Id, Name, Code, ParentId, Level);
}

public sealed record DepartmentDto(Guid Id, string Name, string Code, Guid? ParentId, DepartmentLevel Level);

internal sealed class DepartmentConfiguration : IEntityTypeConfiguration<Department>
{
    public void Configure(EntityTypeBuilder<Department> b)
    {
        b.ToTable("departments");
        b.HasIndex(d => d.Code).IsUnique();
        b.Property(d => d.Name).HasMaxLength(200);
        b.Property(d => d.Code).HasMaxLength(18);
        b.Property(d => d.Level).HasConversion<string>().HasMaxLength(20);
        b.HasOne<Department>().WithMany().HasForeignKey(d => d.ParentId).OnDelete(DeleteBehavior.Restrict);
    }
}
