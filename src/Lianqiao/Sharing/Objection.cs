using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Sharing;

/// <summary>提出 → 受理 → 核实 → 更正 / 驳回 → 关闭 (DB3208/T 219-2024, simplified).</summary>
public enum ObjectionStatus { Raised, Accepted, Verified, Corrected, Rejected, Closed }

/// <summary>数据异议: a consumer flags a record (by its key) or one field of it; the provider's steward answers by a deadline.</summary>
public sealed class DataObjection
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string ResourceId { get; set; }
    public Guid ProviderDepartmentId { get; set; }
    public Guid ConsumerDepartmentId { get; set; }
    /// <summary>The record's key values as JSON, e.g. {"id_number":"…"}.</summary>
    public required string RecordKey { get; set; }
    public string? Field { get; set; }
    public required string Reason { get; set; }
    public string? ProposedValue { get; set; }
    public ObjectionStatus Status { get; set; }
    public DateOnly Deadline { get; set; }
    public DateTimeOffset RaisedAt { get; set; }
    public string RaisedBy { get; set; } = "";
    public List<ObjectionEvent> Events { get; set; } = [];

    public DataObjectionDto AsDto() => new(Id, ResourceId, ProviderDepartmentId, ConsumerDepartmentId, RecordKey, Field, Reason, ProposedValue,
        Status, Deadline, RaisedAt, RaisedBy, Events.OrderBy(e => e.Id).Select(e => new ObjectionEventDto(e.Action, e.Actor, e.At, e.Note, e.OldValue, e.NewValue)).ToList());
}

/// <summary>One step of an objection; a correction keeps the value it replaced.</summary>
public sealed class ObjectionEvent
{
    public long Id { get; set; }
    public Guid ObjectionId { get; set; }
    public required string Action { get; set; }
    public string Actor { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public string? Note { get; set; }
    public string? OldValue { get; set; }
    public string? NewValue { get; set; }
}

public sealed record DataObjectionDto(Guid Id, string ResourceId, Guid ProviderDepartmentId, Guid ConsumerDepartmentId, string RecordKey,
    string? Field, string Reason, string? ProposedValue, ObjectionStatus Status, DateOnly Deadline, DateTimeOffset RaisedAt, string RaisedBy,
    IReadOnlyList<ObjectionEventDto> History);

public sealed record ObjectionEventDto(string Action, string Actor, DateTimeOffset At, string? Note, string? OldValue, string? NewValue);

internal sealed class ObjectionConfiguration : IEntityTypeConfiguration<DataObjection>, IEntityTypeConfiguration<ObjectionEvent>
{
    public void Configure(EntityTypeBuilder<DataObjection> b)
    {
        b.ToTable("data_objections");
        b.Property(o => o.ResourceId).HasMaxLength(100);
        b.Property(o => o.RecordKey).HasMaxLength(2000);
        b.Property(o => o.Field).HasMaxLength(64);
        b.Property(o => o.Reason).HasMaxLength(2000);
        b.Property(o => o.ProposedValue).HasMaxLength(4000);
        b.Property(o => o.RaisedBy).HasMaxLength(200);
        b.Property(o => o.Status).HasConversion<string>().HasMaxLength(20);
        b.HasMany(o => o.Events).WithOne().HasForeignKey(e => e.ObjectionId);
        b.HasIndex(o => new { o.ProviderDepartmentId, o.Status });
    }

    public void Configure(EntityTypeBuilder<ObjectionEvent> b)
    {
        b.ToTable("data_objection_events");
        b.Property(e => e.Action).HasMaxLength(32);
        b.Property(e => e.Actor).HasMaxLength(200);
        b.Property(e => e.Note).HasMaxLength(2000);
        b.Property(e => e.OldValue).HasMaxLength(4000);
        b.Property(e => e.NewValue).HasMaxLength(4000);
    }
}
