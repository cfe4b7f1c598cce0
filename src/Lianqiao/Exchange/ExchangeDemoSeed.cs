using System.Globalization;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Domain.Synthetic;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Lianqiao.Sharing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Exchange;

/// <summary>
/// The demo's exchange: a sample SQLite database of the market regulator's registration system (DATA/exchange/demo-source.db)
/// collected into 法人单位基础信息 every minute (a snapshot, so deletions are seen), and a delivery of that resource into the 人社 application's
/// front-end database (DATA/exchange/demo-consumer.db) every minute, under a grant that masks the legal representative.
/// </summary>
internal sealed class ExchangeDemoSeed : ISeedStep
{
    public const string SourceFile = "demo-source.db";
    public const string ConsumerFile = "demo-consumer.db";
    public string Id => "p4-exchange/001-demo-collection-and-delivery";
    public bool DemoOnly => true;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var sp = context.Services;
        var db = sp.GetRequiredService<LianqiaoDb>();
        var time = sp.GetRequiredService<TimeProvider>();
        var provider = await db.Set<Department>().FirstOrDefaultAsync(d => d.Name == "市市场监管局", cancellationToken);
        var app = await db.Set<ConsumerApp>().FirstOrDefaultAsync(a => a.Name == "人社业务系统", cancellationToken);
        var resource = await sp.GetRequiredService<Catalog.ICatalogReader>().FindAsync("legal-entity-basic", cancellationToken);
        if (provider is null || app is null || resource is null) return;   // a slimmer demo without these: nothing to connect

        var folder = Directory.CreateDirectory(Path.Combine(context.DataDirectory, "exchange")).FullName;
        var source = Path.Combine(folder, SourceFile);
        WriteSource(source, 500, 20261128);
        var now = time.GetUtcNow();
        var sourceConnection = new ExchangeConnection
        {
            Name = "市场主体登记系统（示例库）", Kind = ConnectionKinds.Sqlite, DepartmentId = provider.Id, Path = source, CreatedAt = now, CreatedBy = "demo seed",
        };
        var consumerConnection = new ExchangeConnection
        {
            Name = "人社前置库（示例库）", Kind = ConnectionKinds.Sqlite, DepartmentId = app.DepartmentId, Path = Path.Combine(folder, ConsumerFile),
            CreatedAt = now, CreatedBy = "demo seed",
        };
        db.AddRange(sourceConnection, consumerConnection);
        await db.SaveChangesAsync(cancellationToken);

        var grant = await sp.GetRequiredService<GrantService>().IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Application, PrincipalId = app.Id.ToString(), ConsumerDepartmentId = app.DepartmentId,
            ResourceId = resource.Id, ProviderDepartmentId = resource.DepartmentId, Kind = GrantKind.Table,
            Fields = ["credit_code", "entity_name", "legal_representative", "established_on", "registered_capital", "status"],
            ExpiresAt = now.AddYears(1),
        }, new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "demo seed" }, cancellationToken);

        db.AddRange(
            new ExchangeJob
            {
                // A snapshot compared with the stored rows: registrations cancelled at the source become deletions downstream too.
                Name = "市场主体登记信息汇聚", Kind = JobKinds.Collect, DepartmentId = provider.Id, ConnectionId = sourceConnection.Id, ResourceId = resource.Id,
                SourceTable = "biz_registrations", Mode = CollectModes.Snapshot, IntervalSeconds = 60, NextRunAt = now, LeaseUntil = DateTimeOffset.UnixEpoch, CreatedAt = now, CreatedBy = "demo seed",
                Mapping = System.Text.Json.JsonSerializer.Serialize(new List<ColumnMap>
                {
                    new("uscc", "credit_code"), new("name", "entity_name"), new("legal_person", "legal_representative"), new("founded", "established_on"),
                    new("capital", "registered_capital"), new("scope", "business_scope"), new("state", "status"), new("domicile", "address"),
                }, System.Text.Json.JsonSerializerOptions.Web),
            },
            new ExchangeJob
            {
                Name = "法人信息分发至人社前置库", Kind = JobKinds.Deliver, DepartmentId = app.DepartmentId, ConnectionId = consumerConnection.Id,
                ResourceId = resource.Id, AppId = app.Id, TargetTable = "legal_entities", BatchSize = 5000, IntervalSeconds = 60,
                NextRunAt = now.AddSeconds(20), LeaseUntil = DateTimeOffset.UnixEpoch, CreatedAt = now, CreatedBy = "demo seed",
            });
        await db.SaveChangesAsync(cancellationToken);
        _ = grant;
    }

    /// <summary>
    /// The registration system's own table under its own column names, holding the same companies the datasets demo
    /// loads from a file (same generator and seed): the first snapshot changes nothing, later ones carry what the demo
    /// source activity changes. A few credit codes are invalid on purpose; the rules quarantine them on every run.
    /// </summary>
    internal static void WriteSource(string path, int rows, int seed)
    {
        if (File.Exists(path)) File.Delete(path);
        var csv = Path.GetTempFileName();
        try
        {
            Datasets.DemoFiles.WriteLegalEntities(csv, rows, seed);
            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            using var tx = connection.BeginTransaction();
            using (var ddl = connection.CreateCommand())
            {
                ddl.Transaction = tx;
                ddl.CommandText = "CREATE TABLE biz_registrations (uscc TEXT PRIMARY KEY, name TEXT NOT NULL, legal_person TEXT, founded TEXT, capital NUMERIC, scope TEXT, state TEXT, domicile TEXT, updated_at TEXT NOT NULL)";
                ddl.ExecuteNonQuery();
            }
            using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT OR REPLACE INTO biz_registrations VALUES ($c, $n, $l, $f, $k, $s, $st, $d, $u)";
            string[] names = ["$c", "$n", "$l", "$f", "$k", "$s", "$st", "$d"];
            foreach (var (line, i) in File.ReadLines(csv).Skip(1).Select((l, i) => (l, i)))
            {
                var cells = line.Split(',');
                insert.Parameters.Clear();
                for (var c = 0; c < names.Length; c++) insert.Parameters.AddWithValue(names[c], c < cells.Length ? cells[c] : DBNull.Value);
                insert.Parameters.AddWithValue("$u", new DateTime(2026, 11, 1).AddMinutes(i).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
        finally
        {
            File.Delete(csv);
        }
    }
}

/// <summary>
/// Keeps the demo's sample registration system alive: each tick one company changes its capital, one registers, and every
/// third tick one is cancelled, so the pages show collection and delivery carrying inserts, updates and deletions.
/// Does nothing unless the demo seed made DATA/exchange/demo-source.db.
/// </summary>
internal sealed class ExchangeDemoActivity(Hosting.HostSettings settings, TimeProvider time) : Jobs.IScheduledJob
{
    long ticks;
    public string Name => "exchange-demo-source";
    public TimeSpan Interval => TimeSpan.FromSeconds(45);

    public Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var path = Path.Combine(settings.DataDirectory, "exchange", ExchangeDemoSeed.SourceFile);
        if (!File.Exists(path)) return Task.FromResult("no demo source");
        var n = Interlocked.Increment(ref ticks);
        var now = time.GetUtcNow().ToOffset(Reference.ChinaTime.Offset).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var data = new SyntheticData((int)(time.GetUtcNow().ToUnixTimeSeconds() % int.MaxValue));
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False;Default Timeout=30");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            UPDATE biz_registrations SET capital = capital + 10, updated_at = $now WHERE uscc = (SELECT uscc FROM biz_registrations ORDER BY random() LIMIT 1);
            INSERT OR IGNORE INTO biz_registrations VALUES ($code, $name, $person, $founded, 100, '技术开发、技术服务', '存续', $address, $now);
            """;
        var district = data.District();
        cmd.Parameters.AddWithValue("$now", now);
        cmd.Parameters.AddWithValue("$code", data.CreditCode(district.Code));
        cmd.Parameters.AddWithValue("$name", $"连云港新登记{n}科技有限公司");
        cmd.Parameters.AddWithValue("$person", data.PersonName());
        cmd.Parameters.AddWithValue("$founded", now[..10]);
        cmd.Parameters.AddWithValue("$address", data.Address(district));
        cmd.ExecuteNonQuery();
        if (n % 3 == 0)
        {
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM biz_registrations WHERE uscc = (SELECT uscc FROM biz_registrations ORDER BY random() LIMIT 1)";
            delete.ExecuteNonQuery();
        }
        return Task.FromResult("demo source changed");
    }
}
