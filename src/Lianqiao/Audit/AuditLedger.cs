using System.Data;
using Lianqiao.Data;
using Lianqiao.Hosting;
using Lianqiao.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.Audit;

public sealed class AuditLedgerOptions
{
    public TimeSpan SealInterval { get; set; } = TimeSpan.FromSeconds(10);
    public int MaxRecordsPerSeal { get; set; } = 10_000;

    /// <summary>
    /// How many gateway-call items a node may have queued and not yet committed before a call waits for its own commit
    /// (<see cref="IAuditLog.WriteItemAsync"/>): what a crash of the node can lose at most. 0: every call waits. Under a
    /// steady load a commit carries a few dozen (bench/gateway/README.md), so the bound only bites when the database lags.
    /// </summary>
    public int MaxUnsettledItems { get; set; } = 256;

    /// <summary>
    /// How long the audit writer lets a batch of gateway-call items (that nobody waits for) gather more before it commits.
    /// Fewer, larger commits cost the database and the writer less; what a crash can lose stays bounded by
    /// <see cref="MaxUnsettledItems"/>. Zero: commit at once.
    /// </summary>
    public TimeSpan ItemLinger { get; set; } = TimeSpan.FromMilliseconds(5);
}

/// <summary>What one sealing run did; <see cref="Refused"/> when the chain's end does not match its signed head.</summary>
public sealed record SealResult(int Seals, int Records, long? LastSealNumber, bool Refused = false)
{
    public override string ToString() =>
        (Seals == 0 ? "nothing sealed" : $"{Seals} seal(s), {Records} record(s), last seal #{LastSealNumber}")
        + (Refused ? "; REFUSED: the ledger head does not match the last seal, run `lianqiao audit verify`" : "");
}

/// <summary>What verify found wrong first: a stable code, the seal and record it concerns, and why in both languages.</summary>
public sealed record LedgerProblem(string Code, long? SealNumber, long? RecordId, string MessageZh, string MessageEn);

public sealed record LedgerReport(bool Intact, long Seals, long SealedRecords, long UnsealedRecords, long? LastSealNumber,
    long? LastRecordId, string? HeadHash, DateTimeOffset? LastSealedAt, LedgerProblem? Problem)
{
    public string Summary => Problem is { } p
        ? $"审计账本校验失败 / audit ledger verification FAILED [{p.Code}]: {p.MessageZh} / {p.MessageEn}"
        : $"审计账本完整 / audit ledger intact: {Seals} 个封存批次 seals, {SealedRecords} 条已封存记录 sealed records, "
          + $"{UnsealedRecords} 条待封存 awaiting seal; head #{LastSealNumber?.ToString() ?? "-"} {HeadHash ?? "-"}";
}

/// <summary>
/// The tamper-evident ledger over the audit records: seals batches into a signed hash chain, and
/// verifies the chain, naming the first record or seal that does not match.
/// </summary>
internal sealed partial class AuditLedger(LianqiaoDb db, KeyFolder keys, TimeProvider time, IOptions<AuditLedgerOptions> options, ILogger<AuditLedger> logger)
{
    public const string KeyName = "audit-ledger";
    public const string KeyVariable = "LIANQIAO_AUDIT_KEY";

    /// <summary>Seals every record committed so far, in batches of at most <see cref="AuditLedgerOptions.MaxRecordsPerSeal"/>.</summary>
    public async Task<SealResult> SealAsync(CancellationToken ct)
    {
        var horizon = await HorizonAsync(ct);
        int seals = 0, records = 0;
        long? last = null;
        var refused = false;
        while (horizon is { } h && !refused)
        {
            (var seal, refused) = await SealOneAsync(h, ct);
            if (seal is null) break;
            seals++;
            records += seal.RecordCount;
            last = seal.Number;
        }
        if (seals > 0) LogSealed(seals, records, last!.Value);
        return new SealResult(seals, records, last, refused);
    }

    /// <summary>
    /// The highest id below which no insert is still in flight. On PostgreSQL ids are handed out before
    /// commit, so a record with a lower id can appear after a higher one is visible; a SHARE lock waits
    /// for every open insert, after which new inserts only get higher ids. SQLite has one writer at a time.
    /// </summary>
    async Task<long?> HorizonAsync(CancellationToken ct)
    {
        if (!db.IsPostgres) return await db.Set<AuditRecord>().MaxAsync(r => (long?)r.Id, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Inserts queue behind a waiting SHARE lock; a stuck transaction must not stall every audit write for long.
        await db.Database.ExecuteSqlRawAsync("SET LOCAL lock_timeout = '5s'; LOCK TABLE audit_records IN SHARE MODE", ct);
        var max = await db.Set<AuditRecord>().MaxAsync(r => (long?)r.Id, ct);
        await tx.CommitAsync(ct);
        return max;
    }

    async Task<(AuditSeal? Seal, bool Refused)> SealOneAsync(long horizon, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var key = keys.GetOrCreate(KeyName, KeyVariable);
        var head = await db.Set<AuditLedgerHead>().SingleOrDefaultAsync(ct);
        var number = (head?.LastSealNumber ?? 0) + 1;
        var after = head?.LastRecordId ?? 0;
        var previousHash = head?.SealHash ?? LedgerFormat.GenesisHash;
        if (!await HeadMatchesLastSealAsync(head, ct))
        {
            // Extending a chain whose end was cut would hide the cut: leave it for verify to report.
            LogHeadMismatch(head?.LastSealNumber ?? 0);
            return (null, true);
        }

        // The id and the content hash the writer stored, not the records: sealing reads 40 bytes a record.
        var batch = await db.Set<AuditRecord>().AsNoTracking()
            .Where(r => r.Id > after && r.Id <= horizon).OrderBy(r => r.Id).Take(options.Value.MaxRecordsPerSeal)
            .Select(r => new { r.Id, r.ContentHash }).ToListAsync(ct);
        if (batch.Count == 0) return (null, false);
        // A record inserted around the writer has no content hash: hash what it holds.
        var unhashed = batch.Where(r => r.ContentHash is null).Select(r => r.Id).ToList();
        var contentHashes = unhashed.Count == 0 ? [] : await db.Set<AuditRecord>().AsNoTracking()
            .Where(r => unhashed.Contains(r.Id)).ToDictionaryAsync(r => r.Id, LedgerFormat.ContentHash, ct);

        var hashes = batch.Select(r => LedgerFormat.RecordHash(r.Id, r.ContentHash ?? contentHashes[r.Id])).ToList();
        var hash = LedgerFormat.SealHash(number, batch[0].Id, batch[^1].Id, batch.Count, previousHash, hashes);
        var now = time.GetUtcNow();
        var seal = new AuditSeal
        {
            Number = number,
            FirstRecordId = batch[0].Id,
            LastRecordId = batch[^1].Id,
            RecordCount = batch.Count,
            PreviousHash = previousHash,
            Hash = hash,
            RecordDigests = LedgerFormat.Digests(hashes),
            KeyId = key.Id,
            Signature = LedgerFormat.SignSeal(key.Material, hash),
            SealedAt = now,
        };
        db.Add(seal);
        if (head is null)
        {
            head = new AuditLedgerHead { SealHash = hash, KeyId = key.Id, Signature = "" };
            db.Add(head);
        }
        head.LastSealNumber = number;
        head.LastRecordId = seal.LastRecordId;
        head.SealHash = hash;
        head.KeyId = key.Id;
        head.Signature = LedgerFormat.SignHead(key.Material, number, seal.LastRecordId, hash);
        head.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex)
        {
            // Another node sealed the same batch first (the seal number is the key); its seal stands.
            LogSealRace(ex, number);
            return (null, false);
        }
        return (seal, false);
    }

    async Task<bool> HeadMatchesLastSealAsync(AuditLedgerHead? head, CancellationToken ct)
    {
        var last = await db.Set<AuditSeal>().AsNoTracking().OrderByDescending(s => s.Number)
            .Select(s => new { s.Number, s.LastRecordId, s.Hash }).FirstOrDefaultAsync(ct);
        if (head is null) return last is null;
        return last is not null && last.Number == head.LastSealNumber && last.LastRecordId == head.LastRecordId && last.Hash == head.SealHash;
    }

    /// <summary>Recomputes every seal from the records and checks the chain, the signatures and the signed head.</summary>
    public async Task<LedgerReport> VerifyAsync(CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        // One snapshot for head, seals and records, so a seal committed meanwhile cannot look like tampering.
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (db.IsPostgres)
            {
                await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
                return await VerifyInSnapshotAsync(ct);
            }
            // A deferred transaction reads one WAL snapshot without taking SQLite's write lock.
            await using var sqliteTx = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
            await db.Database.UseTransactionAsync(sqliteTx, ct);
            try
            {
                return await VerifyInSnapshotAsync(ct);
            }
            finally
            {
                await db.Database.UseTransactionAsync(null, ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    async Task<LedgerReport> VerifyInSnapshotAsync(CancellationToken ct)
    {
        var keyring = keys.All(KeyName, KeyVariable);
        var head = await db.Set<AuditLedgerHead>().AsNoTracking().SingleOrDefaultAsync(ct);
        var seals = await db.Set<AuditSeal>().AsNoTracking().OrderBy(s => s.Number).ToListAsync(ct);

        long sealedRecords = 0, unsealed = 0, expectedNumber = 1, previousLast = 0;
        var previousHash = LedgerFormat.GenesisHash;
        AuditSeal? lastSeal = null;
        LedgerProblem? problem = null;

        await using var records = db.Set<AuditRecord>().AsNoTracking().OrderBy(r => r.Id).AsAsyncEnumerable().GetAsyncEnumerator(ct);
        var more = await records.MoveNextAsync();
        foreach (var seal in seals)
        {
            var ids = new List<long>();
            var hashes = new List<byte[]>();
            while (more && records.Current.Id <= seal.LastRecordId)
            {
                ids.Add(records.Current.Id);
                hashes.Add(LedgerFormat.RecordHash(records.Current));
                more = await records.MoveNextAsync();
            }
            problem = CheckSeal(seal, expectedNumber, previousHash, previousLast, ids, hashes, keyring);
            if (problem is not null) break;
            sealedRecords += ids.Count;
            expectedNumber++;
            previousHash = seal.Hash;
            previousLast = seal.LastRecordId;
            lastSeal = seal;
        }
        if (problem is null)
        {
            while (more && problem is null)
            {
                problem = CheckUnsealed(records.Current);
                unsealed++;
                more = await records.MoveNextAsync();
            }
            problem ??= CheckHead(head, lastSeal, keyring);
        }
        if (problem is not null) LogVerifyFailed(problem.Code, problem.SealNumber, problem.RecordId, problem.MessageEn);
        return new LedgerReport(problem is null, lastSeal?.Number ?? 0, sealedRecords, unsealed, lastSeal?.Number, lastSeal?.LastRecordId,
            lastSeal?.Hash, lastSeal?.SealedAt, problem);
    }

    static LedgerProblem? CheckSeal(AuditSeal seal, long expectedNumber, string previousHash, long previousLast,
        List<long> ids, List<byte[]> hashes, IReadOnlyDictionary<string, SecretKey> keyring)
    {
        var n = seal.Number;
        if (n != expectedNumber)
            return new("seal-missing", expectedNumber, null,
                $"封存批次 #{expectedNumber} 缺失（下一个是 #{n}）", $"seal #{expectedNumber} is missing (the next one is #{n})");
        if (seal.PreviousHash != previousHash || seal.FirstRecordId <= previousLast)
            return new("chain-broken", n, null,
                $"封存批次 #{n} 未接续前一批次的哈希链", $"seal #{n} does not continue the chain of the seal before it");

        var recomputed = LedgerFormat.SealHash(n, seal.FirstRecordId, seal.LastRecordId, seal.RecordCount, seal.PreviousHash, hashes);
        var countOk = ids.Count == seal.RecordCount && ids.Count > 0 && ids[0] == seal.FirstRecordId;
        if (!countOk || recomputed != seal.Hash) return Locate(seal, ids, hashes);

        if (!keyring.TryGetValue(seal.KeyId, out var key))
            return new("key-missing", n, null,
                $"找不到签名密钥 {seal.KeyId}（封存批次 #{n}）：请将旧密钥放入 DATA/keys/ 或设置 {KeyVariable}",
                $"the ledger key {seal.KeyId} that signed seal #{n} is not here: put it in DATA/keys/ or set {KeyVariable}");
        if (!LedgerFormat.SameHex(LedgerFormat.SignSeal(key.Material, seal.Hash), seal.Signature))
            return new("signature-invalid", n, seal.FirstRecordId,
                $"封存批次 #{n}（记录 {seal.FirstRecordId}–{seal.LastRecordId}）签名不符：哈希链被不持有账本密钥者改写",
                $"seal #{n} (records {seal.FirstRecordId}-{seal.LastRecordId}) has a bad signature: the chain was rewritten without the ledger key");
        return null;
    }

    /// <summary>Names the first record whose hash differs from the seal's digests, or the seal itself.</summary>
    static LedgerProblem Locate(AuditSeal seal, List<long> ids, List<byte[]> hashes)
    {
        var n = seal.Number;
        var stored = seal.RecordDigests;
        var storedCount = stored.Length / LedgerFormat.DigestBytes;
        bool Same(int actual, int expected) => expected < storedCount && actual < hashes.Count
            && hashes[actual].AsSpan(0, LedgerFormat.DigestBytes).SequenceEqual(stored.AsSpan(expected * LedgerFormat.DigestBytes, LedgerFormat.DigestBytes));

        var i = 0;
        while (i < Math.Min(storedCount, hashes.Count) && Same(i, i)) i++;
        var afterText = i > 0 ? ids[i - 1].ToString() : null;
        LedgerProblem Deleted() => new("record-deleted", n, i < ids.Count ? ids[i] : null,
            $"封存批次 #{n} 的记录被删除：{(afterText is null ? "批次开头" : $"记录 {afterText} 之后")}缺少记录（应有 {seal.RecordCount} 条，现有 {ids.Count} 条）",
            $"a record of seal #{n} was deleted {(afterText is null ? "at its start" : $"after record {afterText}")} ({ids.Count} of {seal.RecordCount} records left)");

        if (i < Math.Min(storedCount, hashes.Count))
        {
            if (hashes.Count < storedCount && Same(i, i + 1)) return Deleted();
            if (hashes.Count > storedCount && Same(i + 1, i))
                return new("record-inserted", n, ids[i], $"记录 {ids[i]} 被插入到封存批次 #{n} 中", $"record {ids[i]} was inserted into seal #{n}");
            return new("record-altered", n, ids[i],
                $"记录 {ids[i]} 被篡改（与封存批次 #{n} 的哈希不符）", $"record {ids[i]} was altered (its hash does not match seal #{n})");
        }
        if (hashes.Count < storedCount) return Deleted();
        if (hashes.Count > storedCount)
            return new("record-inserted", n, ids[i], $"记录 {ids[i]} 被插入到封存批次 #{n} 中", $"record {ids[i]} was inserted into seal #{n}");
        return new("seal-altered", n, null, $"封存批次 #{n} 的内容被改动（哈希不符）", $"seal #{n} itself was altered (its hash does not match)");
    }

    /// <summary>
    /// A record not yet sealed is protected by the append-only rules only, but one edited without its stored content hash
    /// no longer matches it.
    /// </summary>
    static LedgerProblem? CheckUnsealed(AuditRecord record) =>
        record.ContentHash is { } stored && !stored.AsSpan().SequenceEqual(LedgerFormat.ContentHash(record))
            ? new("record-altered", null, record.Id,
                $"待封存的记录 {record.Id} 被篡改（与写入时的内容哈希不符）", $"record {record.Id}, not yet sealed, was altered (it no longer matches its content hash)")
            : null;

    static LedgerProblem? CheckHead(AuditLedgerHead? head, AuditSeal? last, IReadOnlyDictionary<string, SecretKey> keyring)
    {
        if (head is null)
            return last is null ? null : new("head-missing", last.Number, null, "账本头部记录缺失", "the signed ledger head is missing");
        if (!keyring.TryGetValue(head.KeyId, out var key))
            return new("key-missing", head.LastSealNumber, null, $"找不到签名密钥 {head.KeyId}（账本头部）", $"the ledger key {head.KeyId} that signed the head is not here");
        if (!LedgerFormat.SameHex(LedgerFormat.SignHead(key.Material, head.LastSealNumber, head.LastRecordId, head.SealHash), head.Signature))
            return new("head-invalid", head.LastSealNumber, null, "账本头部签名不符：被不持有账本密钥者改写", "the ledger head has a bad signature: rewritten without the ledger key");
        var lastNumber = last?.Number ?? 0;
        var lastRecord = last?.LastRecordId ?? 0;
        if (head.LastSealNumber > lastNumber || head.LastRecordId > lastRecord)
            return new("truncated", lastNumber + 1, lastRecord + 1,
                $"账本被截断：签名的头部指向封存批次 #{head.LastSealNumber}（至记录 {head.LastRecordId}），现存只到 #{lastNumber}（至记录 {lastRecord}）",
                $"the ledger was truncated: the signed head ends at seal #{head.LastSealNumber} (record {head.LastRecordId}) but the ledger ends at seal #{lastNumber} (record {lastRecord})");
        if (head.LastSealNumber != lastNumber || head.LastRecordId != lastRecord || head.SealHash != last?.Hash)
            return new("head-mismatch", head.LastSealNumber, null,
                $"账本头部（#{head.LastSealNumber}）与最后的封存批次（#{lastNumber}）不一致", $"the ledger head (#{head.LastSealNumber}) does not match the last seal (#{lastNumber})");
        return null;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Audit ledger: sealed {Seals} batch(es), {Records} record(s), up to seal #{Last}")]
    partial void LogSealed(int seals, int records, long last);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Critical, Message = "Audit ledger: the head (seal #{HeadSeal}) does not match the last seal; sealing stopped until `lianqiao audit verify` is investigated")]
    partial void LogHeadMismatch(long headSeal);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Audit ledger: seal #{Number} was written by another node first")]
    partial void LogSealRace(Exception ex, long number);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Critical, Message = "Audit ledger verification failed [{Code}] at seal {Seal}, record {Record}: {Message}")]
    partial void LogVerifyFailed(string code, long? seal, long? record, string message);
}

/// <summary>Seals new audit records every <see cref="AuditLedgerOptions.SealInterval"/> on one node.</summary>
internal sealed class AuditSealJob(IOptions<AuditLedgerOptions> options) : IScheduledJob
{
    public string Name => "audit.seal";
    public TimeSpan Interval => options.Value.SealInterval;

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        (await services.GetRequiredService<AuditLedger>().SealAsync(cancellationToken)).ToString();
}

internal static class AuditLedgerModule
{
    public static IServiceCollection AddAuditLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuditLedgerOptions>().Bind(configuration.GetSection("Lianqiao:Audit"))
            .Validate(o => o.SealInterval > TimeSpan.Zero, "Lianqiao:Audit:SealInterval must be positive")
            .Validate(o => o.MaxRecordsPerSeal is > 0 and <= 10_000, "Lianqiao:Audit:MaxRecordsPerSeal must be 1..10000")
            .Validate(o => o.MaxUnsettledItems is >= 0 and <= 100_000, "Lianqiao:Audit:MaxUnsettledItems must be 0..100000")
            .Validate(o => o.ItemLinger >= TimeSpan.Zero && o.ItemLinger <= TimeSpan.FromSeconds(1), "Lianqiao:Audit:ItemLinger must be 0..1 s")
            .ValidateOnStart();
        services.AddScoped<AuditLedger>();
        services.AddSingleton<IScheduledJob, AuditSealJob>();
        return services;
    }
}
