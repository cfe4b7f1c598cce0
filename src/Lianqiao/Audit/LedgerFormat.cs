using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lianqiao.Audit;

/// <summary>
/// Ledger format 1. A record's canonical form is a UTF-8 JSON array
/// <c>[1, id, atMicros, action, outcome, actorKind, actorId, actorName, departmentId, targetType, targetId, detail, remoteIp, requestId]</c>
/// with the instant as whole microseconds since the Unix epoch (UTC) and the department as a lowercase
/// "D" Guid: the same bytes whichever database held the record. A seal's hash is SHA-256 over a
/// header (number, first and last id, count), the previous seal's hash and each record's SHA-256 in id order.
/// </summary>
internal static class LedgerFormat
{
    public const int Version = 1;
    public const int DigestBytes = 8;
    public static readonly string GenesisHash = new('0', 64);
    static readonly byte[] SealDomain = "lianqiao-audit-seal/1\n"u8.ToArray();

    /// <summary>PostgreSQL keeps microseconds; the writer truncates to them so both databases store the same instant.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset at)
    {
        var utc = at.UtcTicks;
        return new DateTimeOffset(utc - utc % 10, TimeSpan.Zero);
    }

    public static long Microseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    static void WriteCanonical(Utf8JsonWriter w, AuditRecord r)
    {
        w.WriteStartArray();
        w.WriteNumberValue(Version);
        w.WriteNumberValue(r.Id);
        w.WriteNumberValue(Microseconds(r.At));
        w.WriteStringValue(r.Action);
        w.WriteStringValue(r.Outcome);
        Write(w, r.ActorKind);
        Write(w, r.ActorId);
        Write(w, r.ActorName);
        Write(w, r.DepartmentId?.ToString("D"));
        Write(w, r.TargetType);
        Write(w, r.TargetId);
        Write(w, r.Detail);
        Write(w, r.RemoteIp);
        Write(w, r.RequestId);
        w.WriteEndArray();
        w.Flush();
    }

    static void Write(Utf8JsonWriter w, string? value)
    {
        if (value is null) w.WriteNullValue();
        else w.WriteStringValue(value);
    }

    // Sealing and verifying hash every record: one buffer and writer per thread instead of two objects and a copy per record.
    [ThreadStatic] static ArrayBufferWriter<byte>? hashBuffer;
    [ThreadStatic] static Utf8JsonWriter? hashWriter;

    public static byte[] RecordHash(AuditRecord r)
    {
        var buffer = hashBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = hashWriter ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        WriteCanonical(writer, r);
        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>The seal hash over its header, the previous hash and the records' hashes.</summary>
    public static string SealHash(long number, long firstId, long lastId, int count, string previousHash, IEnumerable<byte[]> recordHashes)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(SealDomain);
        Span<byte> header = stackalloc byte[32];
        BinaryPrimitives.WriteInt64BigEndian(header, number);
        BinaryPrimitives.WriteInt64BigEndian(header[8..], firstId);
        BinaryPrimitives.WriteInt64BigEndian(header[16..], lastId);
        BinaryPrimitives.WriteInt64BigEndian(header[24..], count);
        h.AppendData(header);
        h.AppendData(Convert.FromHexString(previousHash));
        foreach (var recordHash in recordHashes) h.AppendData(recordHash);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    public static byte[] Digests(IReadOnlyList<byte[]> recordHashes)
    {
        var digests = new byte[recordHashes.Count * DigestBytes];
        for (var i = 0; i < recordHashes.Count; i++) recordHashes[i].AsSpan(0, DigestBytes).CopyTo(digests.AsSpan(i * DigestBytes));
        return digests;
    }

    public static string SignSeal(byte[] key, string sealHash) => Mac(key, "seal/1|" + sealHash);

    public static string SignHead(byte[] key, long lastSealNumber, long lastRecordId, string sealHash) =>
        Mac(key, $"head/1|{lastSealNumber}|{lastRecordId}|{sealHash}");

    static string Mac(byte[] key, string message) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(message)));

    /// <summary>Compares signatures in constant time.</summary>
    public static bool SameHex(string a, string b) =>
        a.Length == b.Length && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
