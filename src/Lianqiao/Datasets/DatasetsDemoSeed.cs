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

    static readonly string[] Scopes = ["技术开发、技术服务", "货物进出口", "道路货物运输", "餐饮服务", "房屋建筑工程施工"];

    public static void WriteLegalEntities(string path, int rows, int seed)
    {
        var data = new SyntheticData(seed);
        var random = new Random(seed);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        // The columns of the catalog's 法人单位基础信息 (legal-entity-basic).
        w.WriteLine("credit_code,entity_name,legal_representative,established_on,registered_capital,business_scope,status,address");
        string[] kinds = ["科技有限公司", "贸易有限公司", "物流有限公司", "餐饮管理有限公司", "建筑工程有限公司"];
        for (var i = 0; i < rows; i++)
        {
            var district = data.District();
            var code = data.CreditCode(district.Code);
            if (random.Next(100) < 3) code = code[..17] + (code[17] == '0' ? '1' : '0');
            var registered = new DateOnly(2000, 1, 1).AddDays(random.Next(0, 9000));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{code},{district.City}{data.PersonName()[..1]}{i:D4}{kinds[i % kinds.Length]},{data.PersonName()},{registered:yyyy-MM-dd},{random.Next(10, 50_000) * 10_000m / 100:F2},{Scopes[i % Scopes.Length]},{(i % 17 == 0 ? "注销" : "存续")},{data.Address(district)}"));
        }
    }
}

/// <summary>
/// Loads generated files into the catalog's journey resources (人口基础信息, 法人单位基础信息), with the quality rules a
/// steward would set beyond what the items imply, so every dataset page, the data API and the journeys have data.
/// </summary>
internal sealed class DatasetsDemoSeed : ISeedStep
{
    public string Id => "p3-datasets/001-demo-population-and-legal-entities";
    public bool DemoOnly => true;

    public const string Population = "population-basic";
    public const string LegalEntities = "legal-entity-basic";

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var sp = context.Services;
        var db = sp.GetRequiredService<LianqiaoDb>();
        await SetRulesAsync(db, Population,
        [
            new RuleSpec { Kind = RuleKinds.Regex, Column = "gender", Pattern = "^[男女12]$" },
            new RuleSpec { Kind = RuleKinds.Range, Column = "birth_date", Min = "1900-01-01", Max = "today" },
            new RuleSpec { Kind = RuleKinds.IdConsistency, Column = "id_number", Other = "birth_date", GenderColumn = "gender" },
        ], cancellationToken);
        await SetRulesAsync(db, LegalEntities,
        [
            new RuleSpec { Kind = RuleKinds.Unique, Column = "entity_name", Severity = RuleSeverity.Warning },
            new RuleSpec { Kind = RuleKinds.Range, Column = "established_on", Min = "1949-10-01", Max = "today" },
        ], cancellationToken);
        var loader = sp.GetRequiredService<DatasetLoader>();
        await LoadAsync(loader, Population, path => DemoFiles.WritePopulation(path, 2000, 20261128), cancellationToken);
        await LoadAsync(loader, LegalEntities, path => DemoFiles.WriteLegalEntities(path, 500, 20261128), cancellationToken);
    }

    static async Task SetRulesAsync(LianqiaoDb db, string slug, List<RuleSpec> rules, CancellationToken ct) =>
        await db.Set<Catalog.CatalogResource>().Where(r => r.Slug == slug && r.RevisionOf == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.QualityRules, System.Text.Json.JsonSerializer.Serialize(rules, Storage.DatasetStore.Json)), ct);

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
