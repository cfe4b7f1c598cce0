using System.Globalization;
using System.Text;
using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Lianqiao.Domain.Codes;
using Lianqiao.Domain.Synthetic;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>
/// Synthetic demo files: population (the shape of ../shared/bench/gen_population.py, so the benchmark
/// file loads into the same resource) with deliberately invalid ID numbers and phones, and legal entities
/// with credit codes. Deterministic for a seed.
/// </summary>
internal static class DemoFiles
{
    public static readonly string PopulationHeader = "id_number,name,gender,birth_date,phone,address,household_id,updated_at";

    public static void WritePopulation(string path, int rows, int seed)
    {
        var data = new SyntheticData(seed);
        var random = new Random(seed);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        w.WriteLine(PopulationHeader);
        var from = new DateOnly(1940, 1, 1);
        var to = new DateOnly(2020, 12, 31);
        for (var i = 0; i < rows; i++)
        {
            var district = data.District();
            var male = random.Next(2) == 0;
            // About 3 % of ID numbers are wrong (check character, date) and 2 % of phones malformed: the quality pages need something to show.
            var id = random.Next(100) < 3 ? data.InvalidIdNumber(district.Code, from, to) : data.IdNumber(district.Code, from, to, male ? Gender.Male : Gender.Female);
            var born = ResidentIdNumber.GetBirthDate(id) ?? new DateOnly(1980, 1, 1);
            var gender = ResidentIdNumber.GetGender(id) == Gender.Female ? "女" : "男";
            var phone = random.Next(100) < 2 ? "1" + random.Next(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture) : data.MobileNumber();
            var updated = new DateTime(2026, 1, 1).AddMinutes(random.Next(0, 400_000));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{id},{data.PersonName()},{gender},{born:yyyy-MM-dd},{phone},{data.Address(district)},H{district.Code}{i / 3:D6},{updated:yyyy-MM-ddTHH:mm:ss}"));
        }
    }

    public static void WriteLegalEntities(string path, int rows, int seed)
    {
        var data = new SyntheticData(seed);
        var random = new Random(seed);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        w.WriteLine("credit_code,name,legal_person,registered_at,capital,address");
        string[] kinds = ["科技有限公司", "贸易有限公司", "物流有限公司", "餐饮管理有限公司", "建筑工程有限公司"];
        for (var i = 0; i < rows; i++)
        {
            var district = data.District();
            var code = data.CreditCode(district.Code);
            if (random.Next(100) < 3) code = code[..17] + (code[17] == '0' ? '1' : '0');
            var registered = new DateOnly(2000, 1, 1).AddDays(random.Next(0, 9000));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{code},{district.City}{data.PersonName()[..1]}{i:D4}{kinds[i % kinds.Length]},{data.PersonName()},{registered:yyyy-MM-dd},{random.Next(10, 50_000) * 10_000m / 100:F2},{data.Address(district)}"));
        }
    }

    public static SchemaInput PopulationSchema(Guid departmentId) => new("人口基础信息", departmentId, "4",
    [
        new ColumnSpec { Name = "公民身份号码", Column = "id_number", Type = "C", Length = 18, Required = true, Key = true, Sensitivity = "L4", Rules = [new RuleSpec { Kind = RuleKinds.IdNumber }] },
        new ColumnSpec { Name = "姓名", Column = "name", Type = "C", Length = 50, Required = true, Sensitivity = "L3", Masking = "PersonName" },
        new ColumnSpec { Name = "性别", Column = "gender", Type = "C", Length = 1, Rules = [new RuleSpec { Kind = RuleKinds.Regex, Pattern = "^[男女12]$" }] },
        new ColumnSpec { Name = "出生日期", Column = "birth_date", Type = "D", Required = true, Rules = [new RuleSpec { Kind = RuleKinds.Range, Min = "1900-01-01", Max = "today" }] },
        new ColumnSpec { Name = "手机号码", Column = "phone", Type = "C", Length = 16, Sensitivity = "L3", Rules = [new RuleSpec { Kind = RuleKinds.Mobile, Severity = RuleSeverity.Warning }] },
        new ColumnSpec { Name = "住址", Column = "address", Type = "C", Length = 100, Sensitivity = "L3", Masking = "Address" },
        new ColumnSpec { Name = "户号", Column = "household_id", Type = "C", Length = 16, Required = true },
        new ColumnSpec { Name = "更新时间", Column = "updated_at", Type = "T" },
    ],
    [new RuleSpec { Kind = RuleKinds.IdConsistency, Column = "id_number", Other = "birth_date", GenderColumn = "gender" }]);

    public static SchemaInput LegalEntitySchema(Guid departmentId) => new("法人单位基础信息", departmentId, "2",
    [
        new ColumnSpec { Name = "统一社会信用代码", Column = "credit_code", Type = "C", Length = 18, Required = true, Key = true, Rules = [new RuleSpec { Kind = RuleKinds.CreditCode }] },
        new ColumnSpec { Name = "单位名称", Column = "name", Type = "C", Length = 100, Required = true, Rules = [new RuleSpec { Kind = RuleKinds.Unique, Severity = RuleSeverity.Warning }] },
        new ColumnSpec { Name = "法定代表人", Column = "legal_person", Type = "C", Length = 50, Masking = "PersonName" },
        new ColumnSpec { Name = "成立日期", Column = "registered_at", Type = "D", Rules = [new RuleSpec { Kind = RuleKinds.Range, Min = "1949-10-01", Max = "today" }] },
        new ColumnSpec { Name = "注册资本（万元）", Column = "capital", Type = "N", Length = 14, Scale = 2 },
        new ColumnSpec { Name = "住所", Column = "address", Type = "C", Length = 100 },
    ], []);
}

/// <summary>Registers the demo resources' schemas and loads generated files, so every dataset page has data.</summary>
internal sealed class DatasetsDemoSeed : ISeedStep
{
    public string Id => "p3-datasets/001-demo-population-and-legal-entities";
    public bool DemoOnly => true;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var sp = context.Services;
        var db = sp.GetRequiredService<LianqiaoDb>();
        var police = await db.Set<Department>().Where(d => d.Name == "市公安局").Select(d => (Guid?)d.Id).FirstOrDefaultAsync(cancellationToken);
        var market = await db.Set<Department>().Where(d => d.Name == "市市场监管局").Select(d => (Guid?)d.Id).FirstOrDefaultAsync(cancellationToken);
        var registry = sp.GetRequiredService<SchemaRegistry>();
        var loader = sp.GetRequiredService<DatasetLoader>();
        if (police is { } p)
        {
            await registry.SaveAsync("population", DemoFiles.PopulationSchema(p), p, null, cancellationToken);
            await LoadAsync(loader, "population", path => DemoFiles.WritePopulation(path, 2000, 20261128), cancellationToken);
        }
        if (market is { } m)
        {
            await registry.SaveAsync("legal-entities", DemoFiles.LegalEntitySchema(m), m, null, cancellationToken);
            await LoadAsync(loader, "legal-entities", path => DemoFiles.WriteLegalEntities(path, 500, 20261128), cancellationToken);
        }
    }

    static async Task LoadAsync(DatasetLoader loader, string resourceId, Action<string> write, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"lianqiao-demo-{resourceId}-{Guid.NewGuid():N}.csv");
        try
        {
            write(path);
            await loader.RunAsync(new LoadRequest(resourceId, LoadModes.Replace, LoadFormats.Csv, path, resourceId + ".csv", new FileInfo(path).Length, "seed", "演示数据 / demo seed"), null, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
