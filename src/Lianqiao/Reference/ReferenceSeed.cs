using Lianqiao.Data;
using Lianqiao.Seeding;

namespace Lianqiao.Reference;

/// <summary>
/// The code tables and calendar every installation starts with. Codes a primary text did not
/// confirm (standards.md marks them UNCONFIRMED) are seeded here as data, so a city can change them.
/// </summary>
internal sealed class ReferenceSeed : ISeedStep
{
    public string Id => "p1-reference/001-code-tables-and-calendar";
    public bool DemoOnly => false;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<LianqiaoDb>();
        foreach (var table in Tables()) db.Add(table);
        foreach (var day in Calendar2026()) db.Add(day);
        await db.SaveChangesAsync(cancellationToken);
    }

    static CodeTable Table(string code, string name, string nameEn, string source, params (string Code, string Label, string En)[] entries) => new()
    {
        Code = code,
        Name = name,
        NameEn = nameEn,
        Source = source,
        Entries = entries.Select((e, i) => new CodeEntry { TableCode = code, Code = e.Code, Label = e.Label, LabelEn = e.En, SortOrder = i + 1 }).ToList(),
    };

    internal static IEnumerable<CodeTable> Tables() =>
    [
        Table("share-type", "共享类型", "Share type", "国发〔2016〕51号; numeric codes UNCONFIRMED (one codebase inverts 1 and 2)",
            ("1", "无条件共享", "Unconditional"), ("2", "有条件共享", "Conditional"), ("3", "不予共享", "Not shared")),
        Table("open-type", "开放类型", "Open type", "Newer catalogs; numeric codes UNCONFIRMED",
            ("1", "无条件开放", "Open"), ("2", "有条件开放", "Conditionally open"), ("3", "不予开放", "Not open")),
        Table("update-cycle", "更新周期", "Update cycle", "政务信息资源目录编制指南; numbering UNCONFIRMED (idatrix 1–6)",
            ("1", "实时", "Real time"), ("2", "每日", "Daily"), ("3", "每周", "Weekly"), ("4", "每月", "Monthly"),
            ("5", "每季度", "Quarterly"), ("6", "每半年", "Half-yearly"), ("7", "每年", "Yearly"), ("8", "不定期", "Irregular"), ("9", "其他", "Other")),
        Table("format-category", "信息资源格式分类", "Format category", "idatrix numbering; UNCONFIRMED",
            ("1", "电子文件", "Electronic file"), ("2", "电子表格", "Spreadsheet"), ("3", "数据库", "Database"), ("4", "图形图像", "Image"),
            ("5", "流媒体", "Streaming media"), ("6", "自描述格式", "Self-describing"), ("7", "服务接口", "Service interface")),
        Table("share-method-class", "共享方式分类", "Share method class", "UNCONFIRMED",
            ("1", "共享平台方式", "Platform"), ("2", "邮件方式", "E-mail"), ("3", "介质方式", "Media")),
        Table("share-method-type", "共享方式类型", "Share method type", "UNCONFIRMED",
            ("1", "数据库", "Database (table exchange)"), ("2", "文件下载", "File download"), ("3", "服务接口", "Service interface")),
        Table("data-item-type", "信息项数据类型", "Data item type", "政务信息资源目录编制指南（表单释义）",
            ("C", "字符型", "Character"), ("N", "数值型", "Numeric"), ("Y", "货币型", "Currency"), ("D", "日期型", "Date"),
            ("T", "日期时间型", "Date-time"), ("L", "逻辑型", "Logical"), ("M", "备注型", "Memo"), ("G", "通用型", "General"),
            ("B", "双精度型", "Double"), ("I", "整型", "Integer"), ("F", "浮点型", "Float")),
        Table("sensitivity-grade", "敏感级别", "Sensitivity grade", "DB33/T 2350-2021",
            ("L1", "不敏感", "Not sensitive"), ("L2", "低敏感", "Low"), ("L3", "较敏感", "Medium"), ("L4", "敏感", "Sensitive")),
        Table("classification-level", "数据级别", "Classification level", "GB/T 43697-2024",
            ("general", "一般数据", "General"), ("important", "重要数据", "Important"), ("core", "核心数据", "Core")),
        Table("gender", "性别", "Gender", "GB/T 2261.1-2003",
            ("0", "未知的性别", "Unknown"), ("1", "男性", "Male"), ("2", "女性", "Female"), ("9", "未说明的性别", "Unspecified")),
        Table("region", "行政区划", "Administrative region", "GB/T 2260 (the codes the demo city needs)",
            ("320000", "江苏省", "Jiangsu"), ("320700", "连云港市", "Lianyungang"), ("320703", "连云区", "Lianyun District"),
            ("320706", "海州区", "Haizhou District"), ("320707", "赣榆区", "Ganyu District"), ("320722", "东海县", "Donghai County"),
            ("320723", "灌云县", "Guanyun County"), ("320724", "灌南县", "Guannan County")),
    ];

    // 2026 public holidays and 调休 working weekends as announced for the year; edit in the calendar API when they change.
    static IEnumerable<CalendarDay> Calendar2026()
    {
        (string From, string To, string Note)[] holidays =
        [
            ("2026-01-01", "2026-01-03", "元旦"), ("2026-02-15", "2026-02-23", "春节"), ("2026-04-04", "2026-04-06", "清明节"),
            ("2026-05-01", "2026-05-05", "劳动节"), ("2026-06-19", "2026-06-21", "端午节"), ("2026-09-25", "2026-09-27", "中秋节"),
            ("2026-10-01", "2026-10-07", "国庆节"),
        ];
        string[] workedWeekends = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"];
        foreach (var (from, to, note) in holidays)
        {
            for (var d = DateOnly.Parse(from); d <= DateOnly.Parse(to); d = d.AddDays(1))
                yield return new CalendarDay { Date = d, IsWorkingDay = false, Note = note };
        }
        foreach (var d in workedWeekends) yield return new CalendarDay { Date = DateOnly.Parse(d), IsWorkingDay = true, Note = "调休上班" };
    }
}
