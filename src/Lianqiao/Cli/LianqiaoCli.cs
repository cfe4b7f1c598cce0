using System.CommandLine;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Hosting;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Identity;

namespace Lianqiao.Cli;

/// <summary>
/// The command line. The forms here are a contract (README, users' scripts, acceptance checks):
/// serve, migrate, admin create-key, admin set-password, audit verify, audit seal.
/// </summary>
public static class LianqiaoCli
{
    static readonly Option<string> DataOption = new("--data") { Description = "数据目录 / data folder (SQLite file inside)", DefaultValueFactory = _ => "./lianqiao-data" };
    static readonly Option<string?> DbOption = new("--db") { Description = "PostgreSQL 连接串 / PostgreSQL connection string (or LIANQIAO_DB, or \"database\" in DATA/lianqiao.json)" };

    public static async Task<int> RunAsync(string[] args)
    {
        var urls = new Option<string>("--urls") { Description = "监听地址 / listen address", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var demo = new Option<bool>("--demo") { Description = "创建演示数据与账号 / create the demo city, accounts and data" };
        var serve = new Command("serve", "启动平台 / run the platform") { urls, DataOption, DbOption, demo };
        serve.SetAction((r, ct) => ServeAsync(HostSettings.Resolve(r.GetValue(DataOption), r.GetValue(DbOption), r.GetValue(urls), r.GetValue(demo)), ct));

        var migrate = new Command("migrate", "升级数据库结构 / apply database migrations") { DataOption, DbOption };
        migrate.SetAction((r, ct) => MigrateAsync(Settings(r), ct));

        var user = new Option<string>("--user") { Description = "用户名 / user name", Required = true };
        var createKey = new Command("create-key", "为用户签发 API 密钥（stdout 最后一行）/ issue an API key for a user (last line of stdout)") { user, DataOption, DbOption };
        createKey.SetAction((r, ct) => CreateKeyAsync(Settings(r), r.GetValue(user)!, ct));
        var setPassword = new Command("set-password", "重置用户密码（随机生成）/ reset a user's password to a new random one") { user, DataOption, DbOption };
        setPassword.SetAction((r, ct) => SetPasswordAsync(Settings(r), r.GetValue(user)!, ct));
        var admin = new Command("admin", "管理命令 / administration") { createKey, setPassword };

        var resource = new Argument<string>("RESOURCE_ID") { Description = "数据资源标识 / resource id" };
        var file = new Argument<FileInfo>("FILE") { Description = "CSV、XLSX 或 JSON 文件 / a CSV, XLSX or JSON file" };
        var mode = new Option<string>("--mode") { Description = "append | upsert | replace | delete", DefaultValueFactory = _ => "append" };
        var format = new Option<string?>("--format") { Description = "csv | xlsx | json（默认按扩展名与内容判断 / default: from the name and content）" };
        var load = new Command("load", "导入数据文件（进度在 stderr，结果一行 JSON 在 stdout）/ load a file (progress on stderr, one JSON report line on stdout)")
        {
            resource, file, mode, format, DataOption, DbOption,
        };
        load.SetAction((r, ct) => DatasetsCli.LoadAsync(Settings(r), r.GetValue(resource)!, r.GetValue(file)!, r.GetValue(mode)!, r.GetValue(format), WithServicesAsync, ct));

        var jobId = new Argument<Guid>("JOB_ID") { Description = "交换任务标识 / exchange job id" };
        var exchangeRun = new Command("run", "立即运行一个交换任务（进度在 stderr，结果一行 JSON 在 stdout）/ run an exchange job now (progress on stderr, the run as one JSON line on stdout)")
        {
            jobId, DataOption, DbOption,
        };
        exchangeRun.SetAction((r, ct) => Exchange.ExchangeCli.RunAsync(Settings(r), r.GetValue(jobId), WithServicesAsync, ct));
        var exchange = new Command("exchange", "库表交换 / exchange connectors") { exchangeRun };

        var verify = new Command("verify", "校验审计账本（哈希链与签名）/ verify the audit ledger's hash chain and signatures") { DataOption, DbOption };
        verify.SetAction((r, ct) => AuditVerifyAsync(Settings(r), ct));
        var seal = new Command("seal", "立即封存新的审计记录 / seal new audit records now") { DataOption, DbOption };
        seal.SetAction((r, ct) => AuditSealAsync(Settings(r), ct));
        var audit = new Command("audit", "审计账本 / audit ledger") { verify, seal };

        // Hidden: fills a database with generated resources for bench/catalog-search; not part of the documented contract.
        var count = new Option<int>("--count") { Description = "number of resources", DefaultValueFactory = _ => 100_000 };
        var generate = new Command("generate-catalog", "generate resources for the search benchmark") { count, DataOption, DbOption };
        generate.SetAction((r, ct) => GenerateCatalogAsync(Settings(r), r.GetValue(count), ct));
        var dev = new Command("dev", "development tools") { generate };
        dev.Hidden = true;

        var root = new RootCommand("连桥 Lianqiao — 政务数据共享交换与开放平台 / government data sharing, exchange and open-data platform")
        {
            serve, migrate, admin, audit, dev, load, exchange,
        };
        return await root.Parse(args).InvokeAsync();
    }

    static HostSettings Settings(ParseResult r) => HostSettings.Resolve(r.GetValue(DataOption), r.GetValue(DbOption));

    static async Task<int> ServeAsync(HostSettings settings, CancellationToken ct)
    {
        await using var app = LianqiaoApp.Build(settings);
        StartupReport report;
        try
        {
            report = await LianqiaoApp.PrepareAsync(app, settings.Demo, ct);
        }
        catch (StartupRefusedException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        if (report.Admin is { } a)
        {
            Console.WriteLine("首次启动：已创建平台管理员（密码只显示这一次）/ First start: platform admin created (password shown once):");
            Console.WriteLine($"  user: {a.UserName}   password: {a.Password}");
        }
        if (report.DemoCredentials.Count > 0)
        {
            Console.WriteLine($"演示账号（也写入 {Path.Combine(settings.DataDirectory, "demo-accounts.txt")}）/ Demo accounts:");
            foreach (var line in report.DemoCredentials) Console.WriteLine("  " + line.Replace('\t', ' '));
        }
        Console.WriteLine($"数据库 / database: {(settings.UsesPostgres ? "PostgreSQL" : settings.SqlitePath)}");
        // Migrations and seeding (the demo city loads datasets) leave ~80 MB of dead objects in the oldest generation, which
        // nothing collects until memory runs short: one compacting collection before serving gives them back (bench/export).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        await app.StartAsync(ct);
        foreach (var address in app.Urls) Console.WriteLine($"连桥已启动 / Lianqiao is listening on: {address}");
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    static async Task<int> MigrateAsync(HostSettings settings, CancellationToken ct)
    {
        await using var app = LianqiaoApp.Build(settings);
        var schema = app.Services.GetRequiredService<DatabaseSchema>();
        var (state, unknown) = await schema.InspectAsync(ct);
        if (state == SchemaState.Newer)
        {
            await Console.Error.WriteLineAsync($"数据库版本比本程序新 / database is newer than this build: {string.Join(", ", unknown)}");
            return 2;
        }
        await schema.MigrateAsync(ct);
        Console.WriteLine("数据库已是最新结构 / database schema is up to date");
        return 0;
    }

    /// <summary>Runs <paramref name="work"/> against a prepared database without listening on a port.</summary>
    internal static async Task<int> WithServicesAsync(HostSettings settings, Func<IServiceProvider, Task<int>> work, CancellationToken ct)
    {
        await using var app = LianqiaoApp.Build(settings);
        try
        {
            var report = await LianqiaoApp.PrepareAsync(app, demo: false, ct);
            if (report.Admin is { } a)
                await Console.Error.WriteLineAsync($"首次启动：平台管理员 {a.UserName} 的密码（只显示这一次）/ first start, admin password (shown once): {a.Password}");
        }
        catch (StartupRefusedException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    static async Task<int> GenerateCatalogAsync(HostSettings settings, int count, CancellationToken ct)
    {
        // The demo city supplies departments and code tables; generated resources are added on top of its catalog.
        await using var app = LianqiaoApp.Build(settings with { Demo = true });
        try
        {
            // Only the foundation's and the catalog's demo steps: the benchmark needs departments, code tables and a catalog, not loaded data.
            await LianqiaoApp.PrepareAsync(app, demo: true, ct,
                step => step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal));
        }
        catch (StartupRefusedException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        await using var scope = app.Services.CreateAsyncScope();
        var load = scope.ServiceProvider.GetRequiredService<Catalog.CatalogBulkLoad>();
        // Items are left out to keep generation quick; their names are in the search tokens all the same.
        var result = await load.LoadAsync(count, withItems: false, seed: 42, line => Console.Error.WriteLine(line), ct);
        await load.AnalyzeAsync(ct);
        var joined = await load.JoinedTokensAsync(ct);
        if (joined < result.Tokens)
        {
            await Console.Error.WriteLineAsync($"token rows do not join their resources: {joined} of {result.Tokens}");
            return 1;
        }
        Console.WriteLine($"generated {result.Resources} resources and {result.Tokens} tokens in {result.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    static Task<int> CreateKeyAsync(HostSettings settings, string userName, CancellationToken ct) =>
        WithServicesAsync(settings, async sp =>
        {
            var user = await sp.GetRequiredService<UserManager<User>>().FindByNameAsync(userName);
            if (user is null)
            {
                await Console.Error.WriteLineAsync($"用户不存在 / no such user: {userName}");
                return 1;
            }
            var issued = await sp.GetRequiredService<KeyService>().IssueAsync(PrincipalKind.User, user.Id, "cli", null,
                new AuditEntry("key.issue") { ActorKind = "System", ActorName = "cli" }, ct);
            Console.WriteLine(issued.Secret);
            return 0;
        }, ct);

    static Task<int> SetPasswordAsync(HostSettings settings, string userName, CancellationToken ct) =>
        WithServicesAsync(settings, async sp =>
        {
            var password = await sp.GetRequiredService<AccountService>().ResetPasswordAsync(userName,
                new AuditEntry("user.password-reset") { ActorKind = "System", ActorName = "cli" });
            if (password is null)
            {
                await Console.Error.WriteLineAsync($"用户不存在 / no such user: {userName}");
                return 1;
            }
            Console.WriteLine(password);
            return 0;
        }, ct);

    /// <summary>
    /// Exit 0 and a summary when the ledger holds; 1 and the first bad record or seal otherwise; 2 when
    /// the database cannot be read as this build's. Never migrates or seeds: it only reads.
    /// </summary>
    static async Task<int> AuditVerifyAsync(HostSettings settings, CancellationToken ct)
    {
        await using var app = LianqiaoApp.Build(settings);
        var (state, _) = await app.Services.GetRequiredService<DatabaseSchema>().InspectAsync(ct);
        if (state != SchemaState.Current)
        {
            await Console.Error.WriteLineAsync(state == SchemaState.Empty
                ? "数据库为空，没有可校验的审计账本 / the database is empty: no audit ledger to verify"
                : "数据库版本与本程序不一致 / the database schema does not match this build (run lianqiao migrate, or use the matching build)");
            return 2;
        }
        await using var scope = app.Services.CreateAsyncScope();
        var report = await scope.ServiceProvider.GetRequiredService<AuditLedger>().VerifyAsync(ct);
        Console.WriteLine(report.Summary);
        return report.Intact ? 0 : 1;
    }

    static Task<int> AuditSealAsync(HostSettings settings, CancellationToken ct) =>
        WithServicesAsync(settings, async sp =>
        {
            var result = await sp.GetRequiredService<AuditLedger>().SealAsync(ct);
            Console.WriteLine($"已封存 / sealed: {result}");
            return 0;
        }, ct);
}
