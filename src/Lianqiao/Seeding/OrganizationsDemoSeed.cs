using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Domain.Codes;
using Lianqiao.Organizations;

namespace Lianqiao.Seeding;

/// <summary>The demo city's departments, personas and consumer systems (shared/design/journeys.md).</summary>
internal sealed class OrganizationsDemoSeed : ISeedStep
{
    public string Id => "p1-organizations/001-demo-city";
    public bool DemoOnly => true;

    internal static readonly string[] DepartmentNames =
    [
        "市大数据管理局", "市公安局", "市市场监管局", "市人社局", "市卫健委", "市民政局", "市教育局", "市交通运输局",
        "市自然资源和规划局", "市生态环境局", "市税务局", "市住建局", "市医保局", "市发展改革委", "市财政局", "市商务局",
        "市文广旅局", "市农业农村局", "市水利局", "市应急管理局", "市司法局", "市统计局", "市城市管理局", "市退役军人事务局",
        "市审计局", "市港口管理局", "市气象局", "市体育局", "市残联", "市住房公积金中心", "市行政审批局", "市信访局",
        "市科技局", "市工信局", "市人防办", "市档案馆", "市地方金融监管局", "市机关事务管理局", "市消防救援支队", "市烟草专卖局",
        "海州区人民政府", "连云区人民政府", "赣榆区人民政府", "东海县人民政府", "灌云县人民政府", "灌南县人民政府",
    ];

    /// <summary>A valid 统一社会信用代码 for a government body (登记管理部门 1, 机关 1) of the demo city.</summary>
    internal static string DemoCode(int index)
    {
        var body = $"0141{index + 1:D4}";
        var org = body + OrganizationCode.ComputeCheckChar(body);
        var first17 = "11320700" + org;
        return first17 + UnifiedSocialCreditCode.ComputeCheckChar(first17);
    }

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<LianqiaoDb>();
        var time = context.Services.GetRequiredService<TimeProvider>();
        var departments = DepartmentNames.Select((name, i) => new Department
        {
            Name = name,
            Code = DemoCode(i),
            Level = name.EndsWith("人民政府", StringComparison.Ordinal) ? DepartmentLevel.District : DepartmentLevel.Municipal,
            CreatedAt = time.GetUtcNow(),
        }).ToDictionary(d => d.Name);
        db.AddRange(departments.Values);
        await db.SaveChangesAsync(cancellationToken);

        var accounts = context.Services.GetRequiredService<AccountService>();
        var seedAudit = new AuditEntry("user.create") { ActorKind = "System", ActorName = "demo seed" };
        (string User, string Name, string Dept, string[] Roles)[] personas =
        [
            ("bureau-admin", "平台管理员", "市大数据管理局", [Roles.PlatformAdmin]),
            ("police-steward", "公安数据管理员", "市公安局", [Roles.Steward]),
            ("police-approver", "公安审批人", "市公安局", [Roles.Approver]),
            ("market-steward", "市场监管数据管理员", "市市场监管局", [Roles.Steward, Roles.Approver]),
            ("transport-steward", "交通数据管理员", "市交通运输局", [Roles.Steward, Roles.Approver]),
            ("hrss-consumer", "人社业务经办人", "市人社局", [Roles.Consumer, Roles.Steward]),
            ("medical-consumer", "医保业务经办人", "市医保局", [Roles.Consumer, Roles.Steward]),
            ("auditor", "审计员", "市大数据管理局", [Roles.Auditor]),
        ];
        foreach (var p in personas)
        {
            var (account, errors) = await accounts.CreateAsync(p.User, p.Name, departments[p.Dept].Id, p.Roles, seedAudit);
            if (account is null) throw new InvalidOperationException($"demo user {p.User}: {string.Join("; ", errors.SelectMany(e => e.Value))}");
            context.Credentials.Add($"user\t{p.User}\t{account.Password}\t{p.Name}（{p.Dept}）");
        }

        var keys = context.Services.GetRequiredService<KeyService>();
        (string Name, string Dept, string Description)[] apps =
        [
            ("人社业务系统", "市人社局", "社保资格核验与待遇发放"),
            ("医保业务系统", "市医保局", "参保单位信息同步"),
        ];
        foreach (var a in apps)
        {
            var app = new ConsumerApp { Name = a.Name, DepartmentId = departments[a.Dept].Id, Description = a.Description, CreatedAt = time.GetUtcNow() };
            db.Add(app);
            await db.SaveChangesAsync(cancellationToken);
            var issued = await keys.IssueAsync(PrincipalKind.Application, app.Id.ToString(), "demo", null, seedAudit with { Action = "key.issue" }, cancellationToken);
            context.Credentials.Add($"app-key\t{a.Name}\t{issued.Secret}\t{a.Dept}");
        }

        var developer = new Developer { Email = "developer@example.org", DisplayName = "开发者", EmailVerified = true, CreatedAt = time.GetUtcNow() };
        db.Add(developer);
        await db.SaveChangesAsync(cancellationToken);
        var devKey = await keys.IssueAsync(PrincipalKind.Developer, developer.Id.ToString(), "demo", null, seedAudit with { Action = "key.issue" }, cancellationToken);
        context.Credentials.Add($"developer-key\t{developer.Email}\t{devKey.Secret}\t公众开发者");
    }
}
