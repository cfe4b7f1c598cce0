using System.Diagnostics;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Organizations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Lianqiao.Catalog;

/// <summary>What a bulk load wrote.</summary>
public sealed record BulkLoadResult(int Resources, long Tokens, TimeSpan Elapsed);

/// <summary>
/// Generates a large, plausible catalog for the search benchmark and the 100k-scale test. Resource rows go through EF in
/// batches (so their storage formats are the model's), search tokens come from <see cref="CatalogRules.Tokens"/> exactly as
/// the service indexes them, and are written with the provider's bulk path (one prepared statement in a transaction on
/// SQLite, binary COPY on PostgreSQL): the point is the query side, not the write path.
/// </summary>
internal sealed class CatalogBulkLoad(LianqiaoDb db, TimeProvider time)
{
    /// <summary>Two-character topic words; the benchmark's queries are among them.</summary>
    public static readonly string[] Topics =
    [
        "人口", "公交", "信用", "企业", "社保", "医疗", "教育", "交通", "环境", "住房", "婚姻", "户籍", "车辆", "税务", "土地",
        "气象", "水利", "农业", "旅游", "文化", "养老", "就业", "食品", "药品", "消防", "应急", "民政", "残疾", "殡葬", "地名",
    ];

    static readonly string[] Objects =
    [
        "基本信息", "登记信息", "统计数据", "许可信息", "处罚记录", "监测数据", "线路信息", "备案信息", "补贴发放", "年度报告",
        "服务网点", "办件记录", "资质证书", "检查结果", "名录",
    ];

    static readonly string[] Phrases = ["按日更新", "供各部门核验", "含历史数据", "按区县汇总", "用于一网通办", "支持接口调用", "用于监管分析"];

    static readonly (string Name, string Type, int Length, string Sensitivity, ItemKind Kind)[] ItemPool =
    [
        ("姓名", "C", 50, "L3", ItemKind.PersonName), ("公民身份号码", "C", 18, "L4", ItemKind.IdNumber), ("统一社会信用代码", "C", 18, "L1", ItemKind.Other),
        ("单位名称", "C", 200, "L1", ItemKind.Other), ("行政区划代码", "C", 12, "L1", ItemKind.Other), ("登记日期", "D", 8, "L1", ItemKind.Other),
        ("联系电话", "C", 20, "L2", ItemKind.Mobile), ("地址", "C", 200, "L2", ItemKind.Address), ("金额", "N", 18, "L1", ItemKind.Other),
        ("状态", "C", 10, "L1", ItemKind.Other), ("线路名称", "C", 50, "L1", ItemKind.Other), ("站点名称", "C", 50, "L1", ItemKind.Other),
        ("更新时间", "T", 14, "L1", ItemKind.Other), ("备注", "M", 2000, "L1", ItemKind.Other),
    ];

    const int Batch = 5_000;

    /// <summary>Adds <paramref name="count"/> resources (90 % published) spread over the existing departments.</summary>
    public async Task<BulkLoadResult> LoadAsync(int count, bool withItems, int seed, Action<string>? progress, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var departments = await db.Set<Department>().AsNoTracking().OrderBy(d => d.Code).ToListAsync(ct);
        if (departments.Count == 0) throw new InvalidOperationException("No departments: prepare the database (with --demo) first.");
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        string[] Codes(string table) => [.. vocab.Entries(table).Keys];
        var subjects = Codes(CatalogVocabulary.Subject);
        var formats = Codes(CatalogVocabulary.FormatCategory);
        var cycles = Codes(CatalogVocabulary.UpdateCycle);
        var libraries = Codes(CatalogVocabulary.Library);
        var random = new Random(seed);
        var now = time.GetUtcNow();
        var previous = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        long tokens = 0;
        try
        {
            for (var start = 0; start < count; start += Batch)
            {
                var batch = new List<(CatalogResource Resource, HashSet<string> Tokens)>(Batch);
                for (var i = start; i < Math.Min(count, start + Batch); i++)
                {
                    var department = departments[random.Next(departments.Count)];
                    var topic = Topics[random.Next(Topics.Length)];
                    var obj = Objects[random.Next(Objects.Length)];
                    var subject = subjects[random.Next(subjects.Length)];
                    var catalogCode = (1 + random.Next(20)).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
                    // Nine-digit sequence numbers never collide with the demo catalog's six-digit ones.
                    var code = $"{subject}{catalogCode}/{100_000_000 + i}";
                    var share = (1 + random.Next(3)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var open = share == CatalogRules.NotShared ? CatalogRules.NotOpen : (1 + random.Next(3)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var published = random.Next(10) != 0;
                    var updated = now.AddMinutes(-random.Next(525_600));
                    var r = new CatalogResource
                    {
                        Slug = CatalogRules.SlugFor(code), Code = code, ClassCode = subject[..1], SubjectCode = subject[1..], CatalogCode = catalogCode,
                        Name = $"{topic}{obj}", DepartmentId = department.Id, ProviderCode = department.Code,
                        Summary = $"{department.Name}提供的{topic}{obj}，{Phrases[random.Next(Phrases.Length)]}。",
                        FormatCategory = formats[random.Next(formats.Length)], FormatType = "",
                        ShareType = share,
                        ShareCondition = share == CatalogRules.Unconditional ? null : "依法定职责共享",
                        ShareMethodClass = share == CatalogRules.NotShared ? null : "1",
                        ShareMethodType = share == CatalogRules.NotShared ? null : "1",
                        NotSharedBasis = share == CatalogRules.NotShared ? "依据相关法规不予共享" : null,
                        OpenType = open, OpenCondition = open == CatalogRules.OpenConditional ? "申请后开放" : null,
                        UpdateCycle = cycles[random.Next(cycles.Length)], Library = libraries[random.Next(libraries.Length)],
                        ClassificationLevel = random.Next(20) == 0 ? CatalogRules.ImportantLevel : "general",
                        Keywords = [topic], Tags = [],
                        Status = published ? ResourceStatus.Published : ResourceStatus.Draft, Version = published ? 1 : 0,
                        PublishDate = published ? DateOnly.FromDateTime(updated.UtcDateTime) : null,
                        CreatedAt = updated, UpdatedAt = updated, UpdatedBy = "bench",
                    };
                    var itemCount = 3 + random.Next(3);
                    for (var k = 0; k < itemCount; k++)
                    {
                        var (name, type, length, sensitivity, kind) = ItemPool[random.Next(ItemPool.Length)];
                        if (r.Items.Any(x => x.Name == name)) continue;
                        r.Items.Add(new DataItem
                        {
                            ResourceId = r.Id, Ordinal = r.Items.Count, Name = name, ColumnName = $"item_{r.Items.Count + 1}", DataType = type,
                            Length = length, Sensitivity = sensitivity, Kind = kind,
                            MaskingRule = MaskingRules.FromRule(MaskingDefaults.For(kind)).Code,
                        });
                    }
                    CatalogRules.Derive(r);
                    var resourceTokens = CatalogRules.Tokens(r, department.Name);
                    if (!withItems) r.Items = [];
                    batch.Add((r, resourceTokens));
                }
                var generated = watch.Elapsed;
                db.AddRange(batch.Select(b => b.Resource));
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
                var saved = watch.Elapsed;
                tokens += await InsertTokensAsync(batch.SelectMany(b => b.Tokens.Select(t => (t, b.Resource.Id))).ToList(), ct);
                progress?.Invoke($"{Math.Min(count, start + Batch)} / {count} resources, {tokens} tokens, {watch.Elapsed.TotalSeconds:F0} s"
                    + $" (this batch: EF {(saved - generated).TotalSeconds:F1} s, tokens {(watch.Elapsed - saved).TotalSeconds:F1} s)");
            }
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = previous;
        }
        return new BulkLoadResult(count, tokens, watch.Elapsed);
    }

    /// <summary>Writes token rows with the provider's fastest path; sorted first so the (token, resource) key is appended in order.</summary>
    async Task<long> InsertTokensAsync(List<(string Token, Guid ResourceId)> rows, CancellationToken ct)
    {
        rows.Sort((a, b) => a.Token == b.Token ? a.ResourceId.CompareTo(b.ResourceId) : string.CompareOrdinal(a.Token, b.Token));
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open) await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (connection is NpgsqlConnection pg)
            {
                await using var copy = await pg.BeginBinaryImportAsync("COPY catalog_search_tokens (\"Token\", \"ResourceId\") FROM STDIN (FORMAT BINARY)", ct);
                foreach (var (token, id) in rows)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(token, NpgsqlDbType.Varchar, ct);
                    await copy.WriteAsync(id, NpgsqlDbType.Uuid, ct);
                }
                return (long)await copy.CompleteAsync(ct);
            }
            var sqlite = (SqliteConnection)connection;
            // A bulk load may lose its work on power failure (it is regenerated), and a large page cache keeps the token key's
            // B-tree in memory while batches insert all over it.
            await using (var pragma = sqlite.CreateCommand())
            {
                pragma.CommandText = "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;";
                await pragma.ExecuteNonQueryAsync(ct);
            }
            await using var tx = (SqliteTransaction)await sqlite.BeginTransactionAsync(ct);
            await using var command = sqlite.CreateCommand();
            command.Transaction = tx;
            command.CommandText = "INSERT INTO catalog_search_tokens (\"Token\", \"ResourceId\") VALUES ($t, $r)";
            var t = command.Parameters.Add("$t", SqliteType.Text);
            var r = command.Parameters.Add("$r", SqliteType.Text);
            await command.PrepareAsync(ct);
            foreach (var (token, id) in rows)
            {
                t.Value = token;
                // EF stores Guid keys on SQLite as upper-case text; the join only works in that exact form.
                r.Value = id.ToString().ToUpperInvariant();
                // Synchronous on purpose: Microsoft.Data.Sqlite's async calls are synchronous underneath, with per-call overhead.
                command.ExecuteNonQuery();
            }
            await tx.CommitAsync(ct);
            return rows.Count;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Set-based copies of one resource (row and search tokens), entirely in SQL: the quickest way to reach a 100k-row catalog
    /// and a token table of millions of rows for a test. Copies get new ids, slugs "bulk-N" and codes "…/2000000NN".
    /// </summary>
    public async Task<int> CloneAsync(Guid templateId, int count, CancellationToken ct)
    {
        var entity = db.Model.FindEntityType(typeof(CatalogResource))!;
        var table = Microsoft.EntityFrameworkCore.Metadata.StoreObjectIdentifier.Table("catalog_resources");
        var columns = entity.GetProperties().Select(p => p.GetColumnName(table)!).ToList();
        var pg = db.IsPostgres;
        var newId = pg ? "gen_random_uuid()"
            // A random version-4 GUID in the upper-case text form EF uses for Guid keys on SQLite.
            : "upper(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-A' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";
        var slash = pg ? "strpos(tpl.\"Code\", '/')" : "instr(tpl.\"Code\", '/')";
        var series = pg ? "generate_series(1, @count) AS s(n)" : "s";
        var prefix = pg ? "" : "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < @count) ";
        var select = columns.Select(c => c switch
        {
            "Id" => newId,
            "Slug" => "'bulk-' || CAST(s.n AS TEXT)",
            "Code" => $"substr(tpl.\"Code\", 1, {slash}) || CAST(200000000 + s.n AS TEXT)",
            _ => $"tpl.\"{c}\"",
        });
        var insert = $"{prefix}INSERT INTO catalog_resources ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) "
            + $"SELECT {string.Join(", ", select)} FROM catalog_resources tpl CROSS JOIN {series} WHERE tpl.\"Id\" = @tpl";
        var tokens = "INSERT INTO catalog_search_tokens (\"Token\", \"ResourceId\") SELECT t.\"Token\", r.\"Id\" FROM catalog_resources r "
            + "CROSS JOIN catalog_search_tokens t WHERE t.\"ResourceId\" = @tpl AND r.\"Slug\" LIKE 'bulk-%' ORDER BY t.\"Token\", r.\"Id\"";
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            int inserted;
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = tx;
                command.CommandTimeout = 600;
                command.CommandText = insert;
                Parameter(command, "@count", count);
                Parameter(command, "@tpl", pg ? templateId : templateId.ToString().ToUpperInvariant());
                inserted = await command.ExecuteNonQueryAsync(ct);
                command.CommandText = tokens;
                await command.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            return inserted;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        static void Parameter(System.Data.Common.DbCommand command, string name, object value)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            command.Parameters.Add(p);
        }
    }

    /// <summary>Token rows whose resource exists: equals the number written when the key formats agree.</summary>
    public async Task<long> JoinedTokensAsync(CancellationToken ct) =>
        await db.Set<CatalogSearchToken>().LongCountAsync(t => db.Set<CatalogResource>().Any(r => r.Id == t.ResourceId), ct);
}
