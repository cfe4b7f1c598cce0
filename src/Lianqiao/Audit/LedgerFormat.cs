using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lianqiao.Audit;

/// <summary>
/// Ledger format 2. A record's content hash is SHA-256 over the UTF-8 JSON array
/// <c>[2, atMicros, action, outcome, actorKind, actorId, actorName, departmentId, targetType, targetId, detail, remoteIp, requestId]</c>
/// with the instant as whole microseconds since the Unix epoch (UTC) and the department as a lowercase
/// "D" Guid: the same bytes whichever database held the record. A record's hash is SHA-256 over its id (int64, big-endian)
/// and its content hash. A seal's hash is SHA-256 over a header (number, first and last id, count), the previous seal's
/// hash and each record's hash in id order.
/// <para>
/// The id is outside the content because the database assigns it: the group-committed writer hashes the content before
/// the insert and stores it with the record (<see cref="AuditRecord.ContentHash"/>), so sealing reads an id and 32 bytes
/// per record instead of the record. Verify never trusts that column: it recomputes every content hash from the record.
/// (Format 1, before 2026-11-28, hashed the id inside the array and is not read; the project had no release then.)
/// </para>
/// </summary>
internal static class LedgerFormat
{
    public const int Version = 2;
    public const int DigestBytes = 8;
    public static readonly string GenesisHash = new('0', 64);
    static readonly byte[] SealDomain = "lianqiao-audit-seal/2\n"u8.ToArray();

    /// <summary>
    /// The precision both databases keep: SQLite's tick converter (<c>DateTimeOffsetToBinaryConverter</c>) keeps 0.1 ms,
    /// PostgreSQL microseconds. The writer truncates to it, so both store the same instant and a content hash taken
    /// before the insert matches the record either database gives back.
    /// </summary>
    public static DateTimeOffset ToStoredPrecision(DateTimeOffset at)
    {
        var utc = at.UtcTicks;
        return new DateTimeOffset(utc - utc % 1_000, TimeSpan.Zero);
    }

    public static long Microseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    static void WriteCanonical(Utf8JsonWriter w, AuditRecord r)
    {
        w.WriteStartArray();
        w.WriteNumberValue(Version);
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

    // The writer and verify hash every record: one buffer and writer per thread instead of two objects and a copy per record.
    [ThreadStatic] static ArrayBufferWriter<byte>? hashBuffer;
    [ThreadStatic] static Utf8JsonWriter? hashWriter;

    /// <summary>SHA-256 of the record's canonical content: everything but the id.</summary>
    public static byte[] ContentHash(AuditRecord r)
    {
        var buffer = hashBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = hashWriter ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        WriteCanonical(writer, r);
        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>The record's hash from its id and content hash.</summary>
    public static byte[] RecordHash(long id, ReadOnlySpan<byte> contentHash)
    {
        Span<byte> input = stackalloc byte[8 + 32];
        BinaryPrimitives.WriteInt64BigEndian(input, id);
        contentHash.CopyTo(input[8..]);
        return SHA256.HashData(input);
    }

    /// <summary>The record's hash recomputed from what is stored in it, as verify needs.</summary>
    public static byte[] RecordHash(AuditRecord r) => RecordHash(r.Id, ContentHash(r));

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
