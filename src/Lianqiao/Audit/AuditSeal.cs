using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Audit;

/// <summary>
/// One link of the ledger chain: a batch of audit records in id order, hashed together with the
/// previous seal's hash and signed with the ledger key (see <see cref="LedgerFormat"/>). Append-only.
/// </summary>
public sealed class AuditSeal
{
    /// <summary>1, 2, 3… without gaps.</summary>
    public long Number { get; set; }
    public long FirstRecordId { get; set; }
    public long LastRecordId { get; set; }
    public int RecordCount { get; set; }
    /// <summary>Hex SHA-256 of the previous seal (64 zeros for the first).</summary>
    public required string PreviousHash { get; set; }
    /// <summary>Hex SHA-256 over the header, the previous hash and every record's hash.</summary>
    public required string Hash { get; set; }
    /// <summary>First 8 bytes of each record's hash, in id order: lets verify name the record that changed.</summary>
    public required byte[] RecordDigests { get; set; }
    /// <summary>Fingerprint of the ledger key that signed (<see cref="Hosting.KeyFolder.IdOf"/>).</summary>
    public required string KeyId { get; set; }
    /// <summary>Hex HMAC-SHA256 of <see cref="Hash"/> with the ledger key.</summary>
    public required string Signature { get; set; }
    public DateTimeOffset SealedAt { get; set; }

    public AuditSealDto AsDto() => new(Number, FirstRecordId, LastRecordId, RecordCount, Hash, KeyId, SealedAt);
}

public sealed record AuditSealDto(long Number, long FirstRecordId, long LastRecordId, int RecordCount, string Hash, string KeyId, DateTimeOffset SealedAt);

/// <summary>
/// The one row saying where the ledger ends, signed over (last seal number, last record id, its hash):
/// deleting the newest seals and their records leaves a chain that is valid but shorter than this.
/// </summary>
public sealed class AuditLedgerHead
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public long LastSealNumber { get; set; }
    public long LastRecordId { get; set; }
    public required string SealHash { get; set; }
    public required string KeyId { get; set; }
    public required string Signature { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class AuditSealConfiguration : IEntityTypeConfiguration<AuditSeal>
{
    public void Configure(EntityTypeBuilder<AuditSeal> b)
    {
        b.ToTable("audit_seals");
        b.HasKey(s => s.Number);
        b.Property(s => s.Number).ValueGeneratedNever();
        b.Property(s => s.PreviousHash).HasMaxLength(64);
        b.Property(s => s.Hash).HasMaxLength(64);
        b.Property(s => s.KeyId).HasMaxLength(16);
        b.Property(s => s.Signature).HasMaxLength(64);
        b.HasIndex(s => s.LastRecordId).IsUnique();
    }
}

internal sealed class AuditLedgerHeadConfiguration : IEntityTypeConfiguration<AuditLedgerHead>
{
    public void Configure(EntityTypeBuilder<AuditLedgerHead> b)
    {
        b.ToTable("audit_ledger_head");
        b.HasKey(h => h.Id);
        b.Property(h => h.Id).ValueGeneratedNever();
        b.Property(h => h.SealHash).HasMaxLength(64);
        b.Property(h => h.KeyId).HasMaxLength(16);
        b.Property(h => h.Signature).HasMaxLength(64);
    }
}
