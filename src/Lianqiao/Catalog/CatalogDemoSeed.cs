using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>
/// The demo city's catalog: the journeys' resources under fixed ids, the five base libraries, topic and
/// department resources, every share/open type and format, a few drafts and submissions for the review queue.
/// </summary>
internal sealed class CatalogDemoSeed : ISeedStep
{
    public string Id => "p2-catalog/002-demo-catalog";
    public bool DemoOnly => true;

    static DataItemInput I(string name, string type, int? length, string grade = "L1", ItemKind kind = ItemKind.Other, bool key = false,
        bool required = false, string? column = null, string? codeTable = null, string? description = null) => new()
        {
            Name = name, DataType = type, Length = length, Sensitivity = grade, Kind = kind, IsKey = key, Required = required || key,
            ColumnName = column, CodeTable = codeTable, Description = description,
        };

    static readonly DataItemInput[] PersonItems =
    [
        I("姓名", "C", 50, "L3", ItemKind.PersonName, required: true), I("公民身份号码", "C", 18, "L3", ItemKind.IdNumber, key: true),
        I("联系电话", "C", 20, "L3", ItemKind.Mobile), I("住址", "C", 200, "L2", ItemKind.Address), I("办理日期", "D", 8, column: "handled_on"),
    ];
    static readonly DataItemInput[] EntityItems =
    [
        I("统一社会信用代码", "C", 18, key: true), I("单位名称", "C", 200, required: true), I("法定代表人", "C", 50, "L2", ItemKind.PersonName),
        I("许可证编号", "C", 64, column: "licence_no"), I("有效期至", "D", 8, column: "valid_until"), I("地址", "C", 200),
    ];
    static readonly DataItemInput[] StatItems =
    [
        I("统计年度", "I", 4, column: "stat_year", key: true), I("行政区划代码", "C", 6, codeTable: "region", key: true),
        I("指标名称", "C", 100, column: "indicator", key: true), I("指标值", "N", 18, column: "value"), I("计量单位", "C", 20, column: "unit"),
    ];
    static readonly DataItemInput[] GeoItems =
    [
        I("要素编号", "C", 32, column: "feature_id", key: true), I("要素名称", "C", 200, column: "feature_name"),
        I("经度", "F", 12), I("纬度", "F", 12), I("面积", "B", 18, column: "area_m2"), I("行政区划代码", "C", 6, codeTable: "region"),
    ];
    static readonly DataItemInput[] HealthItems =
    [
        I("姓名", "C", 50, "L3", ItemKind.PersonName), I("公民身份号码", "C", 18, "L3", ItemKind.IdNumber, key: true),
        I("诊断结果", "M", 2000, "L4", column: "diagnosis"), I("就诊日期", "D", 8, column: "visited_on"), I("医疗机构名称", "C", 200, column: "hospital"),
    ];
    static readonly DataItemInput[] ServiceItems =
    [
        I("事项编码", "C", 64, column: "item_code", key: true), I("事项名称", "C", 200, column: "item_name"), I("办理部门", "C", 200, column: "handling_dept"),
        I("承诺时限", "I", 4, column: "promised_days"), I("办理地点", "C", 200, column: "location"), I("更新时间", "T", 14),
    ];

    sealed record Spec(string Name, string Dept, string Class, string Subject, DataItemInput[] Items, string? Slug = null, string Keywords = "");

    static readonly Spec[] BaseAndTopic =
    [
        new("户籍人口信息", "市公安局", "1", "01", PersonItems), new("流动人口居住登记信息", "市公安局", "1", "01", PersonItems),
        new("出生医学证明信息", "市卫健委", "1", "01", HealthItems), new("婚姻登记信息", "市民政局", "1", "01", PersonItems),
        new("死亡登记信息", "市民政局", "1", "01", PersonItems), new("残疾人基础信息", "市残联", "1", "01", PersonItems),
        new("退役军人基础信息", "市退役军人事务局", "1", "01", PersonItems), new("学籍信息", "市教育局", "1", "01", PersonItems),
        new("事业单位登记信息", "市行政审批局", "1", "02", EntityItems), new("社会组织登记信息", "市民政局", "1", "02", EntityItems),
        new("纳税人登记信息", "市税务局", "1", "02", EntityItems), new("个体工商户登记信息", "市市场监管局", "1", "02", EntityItems),
        new("农民专业合作社登记信息", "市市场监管局", "1", "02", EntityItems),
        new("土地利用现状数据", "市自然资源和规划局", "1", "03", GeoItems), new("标准地名地址数据", "市民政局", "1", "03", GeoItems),
        new("基础地理信息数据", "市自然资源和规划局", "1", "03", GeoItems), new("河湖水系数据", "市水利局", "1", "03", GeoItems),
        new("气象观测站点数据", "市气象局", "1", "03", GeoItems), new("港口岸线资源数据", "市港口管理局", "1", "03", GeoItems),
        new("行政许可信息（双公示）", "市发展改革委", "1", "04", EntityItems), new("行政处罚信息（双公示）", "市发展改革委", "1", "04", EntityItems),
        new("失信被执行人名单", "市发展改革委", "1", "04", EntityItems), new("守信激励对象名单", "市发展改革委", "1", "04", EntityItems),
        new("纳税信用A级纳税人名单", "市税务局", "1", "04", EntityItems),
        new("营业执照电子证照", "市市场监管局", "1", "05", EntityItems), new("不动产权证书电子证照", "市自然资源和规划局", "1", "05", PersonItems),
        new("结婚证电子证照", "市民政局", "1", "05", PersonItems), new("道路运输经营许可证电子证照", "市交通运输局", "1", "05", EntityItems),
        new("食品经营许可证电子证照", "市市场监管局", "1", "05", EntityItems), new("社会保障卡电子证照", "市人社局", "1", "05", PersonItems),
        new("政务服务事项清单", "市行政审批局", "2", "01", ServiceItems), new("公共文化场馆信息", "市文广旅局", "2", "01", GeoItems),
        new("医疗机构执业信息", "市卫健委", "2", "02", EntityItems), new("门诊就诊记录", "市卫健委", "2", "02", HealthItems),
        new("基本医疗保险参保信息", "市医保局", "2", "03", PersonItems), new("养老保险缴费信息", "市人社局", "2", "03", PersonItems),
        new("食品抽检结果", "市市场监管局", "2", "04", EntityItems), new("药品零售企业信息", "市市场监管局", "2", "04", EntityItems),
        new("安全生产许可企业信息", "市应急管理局", "2", "05", EntityItems), new("重点商品价格监测数据", "市发展改革委", "2", "06", StatItems),
        new("能源消费统计数据", "市统计局", "2", "07", StatItems), new("企业信用评价结果", "市发展改革委", "2", "08", EntityItems),
        new("建设工程施工许可信息", "市住建局", "2", "09", EntityItems), new("城市生命线设施数据", "市住建局", "2", "09", GeoItems),
        new("社区网格划分数据", "市民政局", "2", "10", GeoItems), new("空气质量监测数据", "市生态环境局", "2", "11", StatItems),
        new("重点排污单位信息", "市生态环境局", "2", "11", EntityItems), new("应急避难场所信息", "市应急管理局", "2", "12", GeoItems),
        new("消防救援站点信息", "市消防救援支队", "2", "12", GeoItems),
    ];

    static readonly (string Stem, DataItemInput[] Items)[] DepartmentStems =
    [
        ("政务服务事项办件信息", PersonItems), ("行政许可事项目录", ServiceItems), ("年度统计数据", StatItems), ("执法检查记录", EntityItems),
        ("预算决算公开信息", StatItems), ("政策文件库", ServiceItems), ("投诉举报处理信息", PersonItems),
    ];

    static readonly string[] UpdateCycles = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
    static readonly (string Category, string Type)[] Formats =
    [
        ("1", "pdf"), ("2", "xlsx"), ("3", "PostgreSQL"), ("4", "png"), ("5", "mp4"), ("6", "json"), ("7", "REST API (JSON)"), ("2", "csv"), ("3", "达梦 DM8"),
    ];

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<LianqiaoDb>();
        var time = context.Services.GetRequiredService<TimeProvider>();
        var departments = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Name, cancellationToken);
        deptIds = departments.ToDictionary(kv => kv.Key, kv => kv.Value.Id);
        var byId = departments.Values.ToDictionary(d => d.Id);
        var now = time.GetUtcNow();
        var sequence = new Dictionary<string, int>();
        var resources = new List<CatalogResource>();

        CatalogResource Make(ResourceInput input, string? slug, ResourceStatus status)
        {
            var dept = byId[input.DepartmentId!.Value];
            var classification = CatalogRules.ClassificationCode(input.ClassCode!, input.SubjectCode!, input.CatalogCode!, "");
            var seq = sequence[classification] = sequence.GetValueOrDefault(classification) + 1;
            var code = $"{classification}/{seq:D6}";
            var r = new CatalogResource
            {
                Slug = slug ?? CatalogRules.SlugFor(code), Code = code, ClassCode = "", SubjectCode = "", CatalogCode = "", Name = "",
                ProviderCode = "", FormatCategory = "", ShareType = "", OpenType = "", UpdateCycle = "", Library = "", ClassificationLevel = "",
                Status = status, Version = status is ResourceStatus.Published or ResourceStatus.Retired ? 1 : 0,
                CreatedAt = now.AddDays(-resources.Count % 400), UpdatedAt = now.AddMinutes(-resources.Count), UpdatedBy = "demo seed",
            };
            r.Apply(input, dept.Code);
            if (r.Version > 0) r.PublishDate ??= DateOnly.FromDateTime(now.UtcDateTime).AddDays(-(resources.Count * 7 % 700));
            resources.Add(r);
            return r;
        }

        foreach (var (input, slug) in JourneyResources()) Make(input, slug, ResourceStatus.Published);

        var n = 0;
        foreach (var spec in BaseAndTopic) Make(Generated(spec, n++), spec.Slug, ResourceStatus.Published);
        foreach (var deptName in OrganizationsDemoSeed.DepartmentNames)
        {
            foreach (var (stem, items) in DepartmentStems)
            {
                var spec = new Spec(deptName.Replace("人民政府", "", StringComparison.Ordinal) + stem, deptName, "3", "07", items);
                var status = (n % 41) switch { 3 => ResourceStatus.Draft, 7 or 19 => ResourceStatus.Submitted, 11 => ResourceStatus.Retired, _ => ResourceStatus.Published };
                Make(Generated(spec, n++), null, status);
            }
        }

        db.AddRange(resources);
        var names = departments.Values.ToDictionary(d => d.Id, d => d.Name);
        foreach (var r in resources)
        {
            db.AddRange(CatalogRules.Tokens(r, names[r.DepartmentId]).Select(t => new CatalogSearchToken { Token = t, ResourceId = r.Id }));
            if (r.Version > 0)
            {
                db.Add(new ResourceVersion
                {
                    ResourceId = r.Id, Version = 1, SnapshotJson = CatalogRules.Serialize(r.AsInput()), DiffJson = "[]",
                    PublishedAt = r.UpdatedAt, PublishedBy = "demo seed",
                });
            }
            if (r.Status == ResourceStatus.Submitted)
                db.Add(new ReviewComment { ResourceId = r.Id, Action = "submit", Text = "请审核", ActorName = "demo seed", At = r.UpdatedAt });
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    ResourceInput Generated(Spec spec, int n)
    {
        var share = (n % 7) switch { 0 or 1 or 2 => "1", 3 or 4 or 5 => "2", _ => "3" };
        var open = share == "3" ? "3" : (n % 5) switch { 0 or 1 => "1", 2 => "2", _ => "3" };
        var (format, formatType) = Formats[n % Formats.Length];
        var level = n % 23 == 5 ? "important" : n % 97 == 13 ? "core" : "general";
        var library = spec.Class switch { "1" => "base", "2" => "topic", _ => "department" };
        return new ResourceInput
        {
            ClassCode = spec.Class, SubjectCode = spec.Subject, CatalogCode = $"{1 + n % 3:D3}",
            Name = spec.Name, DepartmentId = DeptId(spec.Dept),
            Summary = $"{spec.Dept}提供的{spec.Name}，按《政务信息资源目录编制指南》编目，用于跨部门共享和依法开放。",
            FormatCategory = format, FormatType = formatType, ShareType = share,
            ShareCondition = share == "1" ? null : share == "2" ? "仅向履行相关法定职责的部门共享，需经提供方审核" : "涉及个人隐私和商业秘密",
            ShareMethodClass = share == "3" ? null : "1", ShareMethodType = share == "3" ? null : format == "7" ? "3" : n % 2 == 0 ? "1" : "2",
            NotSharedBasis = share == "3" ? "《中华人民共和国个人信息保护法》第二十八条" : null,
            OpenType = open, OpenCondition = open == "2" ? "申请并签署数据使用协议后在开放域内使用" : null,
            UpdateCycle = format == "7" ? "1" : UpdateCycles[n % UpdateCycles.Length],
            Tags = [spec.Class == "1" ? "基础数据" : spec.Class == "2" ? "主题数据" : "部门数据"],
            Keywords = [.. spec.Keywords.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            Contact = "0518-8560" + (1000 + n % 9000), Library = library, ClassificationLevel = level,
            Items = [.. spec.Items],
        };
    }

    Dictionary<string, Guid> deptIds = [];
    Guid DeptId(string name) => deptIds.GetValueOrDefault(name);

    IEnumerable<(ResourceInput, string)> JourneyResources()
    {
        yield return (new ResourceInput
        {
            ClassCode = "1", SubjectCode = "01", CatalogCode = "001", Name = "人口基础信息", DepartmentId = DeptId("市公安局"),
            Summary = "全市户籍人口和常住人口的基础身份信息，由市公安局维护，是人口基础库的核心资源，用于社保资格核验、身份核验等法定职责。",
            FormatCategory = "3", FormatType = "PostgreSQL", ShareType = "2", ShareCondition = "仅向履行社保、医保、民政等法定职责的部门共享，需经市公安局审批",
            ShareMethodClass = "1", ShareMethodType = "3", OpenType = "3", UpdateCycle = "2", Library = "base", ClassificationLevel = "general",
            Tags = ["人口", "基础数据"], Keywords = ["人口", "户籍", "身份核验"], Contact = "市公安局数据管理科 0518-85601110",
            Items =
            [
                // The column shape of ../shared/bench/gen_population.py, so the benchmark file loads into this resource.
                I("公民身份号码", "C", 18, "L3", ItemKind.IdNumber, key: true, column: "id_number"),
                I("姓名", "C", 50, "L3", ItemKind.PersonName, required: true, column: "name"),
                I("性别", "C", 1, "L3", column: "gender", description: "男/女"),
                I("出生日期", "D", 8, "L3", ItemKind.BirthDate, column: "birth_date"),
                I("联系电话", "C", 20, "L3", ItemKind.Mobile, column: "phone"),
                I("户籍地址", "C", 200, "L3", ItemKind.Address, column: "address"),
                I("户号", "C", 16, "L2", column: "household_id"),
                I("更新时间", "T", 14, column: "updated_at"),
            ],
        }, "population-basic");
        yield return (new ResourceInput
        {
            ClassCode = "1", SubjectCode = "02", CatalogCode = "001", Name = "法人单位基础信息", DepartmentId = DeptId("市市场监管局"),
            Summary = "全市企业、个体工商户等市场主体的登记信息，含统一社会信用代码、名称、成立日期、注册资本和登记状态。",
            FormatCategory = "3", FormatType = "PostgreSQL", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "1",
            OpenType = "1", UpdateCycle = "2", Library = "base", ClassificationLevel = "general",
            Tags = ["法人", "基础数据", "市场主体"], Keywords = ["法人", "企业", "信用代码"], Contact = "市市场监管局信息中心 0518-85602315",
            Items =
            [
                I("统一社会信用代码", "C", 18, key: true, column: "credit_code"),
                I("企业名称", "C", 200, required: true, column: "entity_name"),
                I("法定代表人", "C", 50, "L2", ItemKind.PersonName, column: "legal_representative"),
                I("成立日期", "D", 8, column: "established_on"),
                I("注册资本", "Y", 18, column: "registered_capital", description: "万元"),
                I("经营范围", "M", 2000, column: "business_scope"),
                I("登记状态", "C", 20, column: "status"),
                I("住所", "C", 200, column: "address"),
            ],
        }, "legal-entity-basic");
        yield return (new ResourceInput
        {
            ClassCode = "2", SubjectCode = "01", CatalogCode = "101", Name = "公交线路", DepartmentId = DeptId("市交通运输局"),
            Summary = "全市公交线路的编号、名称、起终点站、首末班时间和票价。",
            FormatCategory = "2", FormatType = "csv/xlsx", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "2",
            OpenType = "1", UpdateCycle = "4", Library = "topic", ClassificationLevel = "general",
            Tags = ["交通", "公交", "开放数据"], Keywords = ["公交", "线路", "出行"], Contact = "市交通运输局 0518-85603001",
            Items =
            [
                I("线路编号", "C", 16, key: true, column: "route_id"), I("线路名称", "C", 50, column: "route_name"),
                I("起点站", "C", 50, column: "origin"), I("终点站", "C", 50, column: "destination"),
                I("首班时间", "C", 5, column: "first_bus"), I("末班时间", "C", 5, column: "last_bus"), I("票价", "Y", 6, column: "fare"),
            ],
        }, "bus-routes");
        yield return (new ResourceInput
        {
            ClassCode = "2", SubjectCode = "01", CatalogCode = "101", Name = "公交站点", DepartmentId = DeptId("市交通运输局"),
            Summary = "全市公交站点的编号、名称、经纬度和途经线路。",
            FormatCategory = "2", FormatType = "csv/xlsx", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "2",
            OpenType = "1", UpdateCycle = "4", Library = "topic", ClassificationLevel = "general",
            Tags = ["交通", "公交", "开放数据"], Keywords = ["公交", "站点", "出行"], Contact = "市交通运输局 0518-85603001",
            Items =
            [
                I("站点编号", "C", 16, key: true, column: "stop_id"), I("站点名称", "C", 50, column: "stop_name"),
                I("经度", "F", 12, column: "longitude"), I("纬度", "F", 12, column: "latitude"), I("途经线路", "C", 500, column: "routes"),
            ],
        }, "bus-stops");
        yield return (new ResourceInput
        {
            ClassCode = "2", SubjectCode = "01", CatalogCode = "102", Name = "公交实时到站", DepartmentId = DeptId("市交通运输局"),
            Summary = "按站点查询公交车辆实时到站信息的服务接口，供出行服务调用。",
            FormatCategory = "7", FormatType = "REST API (JSON)", ShareType = "1", ShareMethodClass = "1", ShareMethodType = "3",
            OpenType = "1", UpdateCycle = "1", Library = "topic", ClassificationLevel = "general",
            Tags = ["交通", "公交", "服务接口"], Keywords = ["公交", "到站", "实时"], Contact = "市交通运输局 0518-85603001",
            Items =
            [
                I("站点编号", "C", 16, key: true, column: "stop_id"), I("线路编号", "C", 16, key: true, column: "route_id"),
                I("车辆编号", "C", 16, column: "vehicle_id"), I("预计到站时间", "T", 14, column: "eta"), I("距离站数", "I", 4, column: "stops_away"),
            ],
        }, "bus-arrivals");
    }
}
