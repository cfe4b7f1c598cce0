using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Organizations;

public enum PrincipalKind { User, Application, Developer }

/// <summary>
/// One key model for every principal. The key itself is shown once; only its SHA-256 is stored
/// (a 256-bit random key needs no slow hash: there is nothing to brute-force).
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public PrincipalKind OwnerKind { get; set; }
    public required string OwnerId { get; set; }
    public required string Name { get; set; }
    /// <summary>First characters of the key, so people can tell keys apart without the secret.</summary>
    public required string Prefix { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public ApiKeyDto AsDto(DateTimeOffset now) =>
        new(Id, OwnerKind, OwnerId, Name, Prefix, CreatedAt, ExpiresAt, RevokedAt, LastUsedAt, IsActive(now));

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;

    public const string KeyPrefix = "lq_";

    public static string NewSecret() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed record ApiKeyDto(Guid Id, PrincipalKind OwnerKind, string OwnerId, string Name, string Prefix,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt, bool Active);

/// <summary>Returned once, when a key is issued.</summary>
public sealed record IssuedKeyDto(ApiKeyDto Key, string Secret);

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> b)
    {
        b.ToTable("api_keys");
        b.HasIndex(k => k.Hash).IsUnique();
        b.HasIndex(k => new { k.OwnerKind, k.OwnerId });
        b.Property(k => k.OwnerKind).HasConversion<string>().HasMaxLength(20);
        b.Property(k => k.OwnerId).HasMaxLength(64);
        b.Property(k => k.Name).HasMaxLength(100);
        b.Property(k => k.Prefix).HasMaxLength(16);
        b.Property(k => k.Hash).HasMaxLength(64);
        b.Property(k => k.CreatedBy).HasMaxLength(100);
    }
}
