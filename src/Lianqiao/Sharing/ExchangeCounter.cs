using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Sharing;

/// <summary>Exchange volume per day × provider × consumer × resource: what the cockpit and the seed's "391亿条" count.</summary>
public sealed class ExchangeCounter
{
    public DateOnly Day { get; set; }
    public Guid ProviderDepartmentId { get; set; }
    /// <summary>The consumer department, or Guid.Empty for the public (developers).</summary>
    public Guid ConsumerDepartmentId { get; set; }
    public required string ResourceId { get; set; }
    public long Calls { get; set; }
    public long Rows { get; set; }
    public long Bytes { get; set; }
}

internal sealed class ExchangeCounterConfiguration : IEntityTypeConfiguration<ExchangeCounter>
{
    public void Configure(EntityTypeBuilder<ExchangeCounter> b)
    {
        b.ToTable("exchange_counters");
        b.HasKey(c => new { c.Day, c.ProviderDepartmentId, c.ConsumerDepartmentId, c.ResourceId });
        b.Property(c => c.ResourceId).HasMaxLength(100);
    }
}
