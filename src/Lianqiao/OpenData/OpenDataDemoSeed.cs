using System.Globalization;
using System.Text;
using Lianqiao.Datasets.Loading;
using Lianqiao.Seeding;

namespace Lianqiao.OpenData;

/// <summary>
/// Journey 7's data: generated bus routes and stops (市交通运输局, 无条件开放) loaded through the datasets loader,
/// like any department's upload, so search → dataset → CSV → key → open API works on a fresh demo.
/// </summary>
internal sealed class OpenDataDemoSeed : ISeedStep
{
    public const string StepId = "p4-open/001-demo";
    public string Id => StepId;
    public bool DemoOnly => true;

    static readonly string[] Places =
    [
        "火车站", "市政府", "海州公园", "新浦汽车站", "花果山", "市第一人民医院", "苍梧绿园", "连云港学院", "万达广场", "海滨大道",
        "墟沟", "港口大厦", "东海路口", "朝阳中路", "民主路", "解放东路", "盐河桥", "通灌路", "体育中心", "大学城",
    ];

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var loader = context.Services.GetRequiredService<DatasetLoader>();
        var random = new Random(7);
        var routes = new StringBuilder("route_id,route_name,origin,destination,first_bus,last_bus,fare\n");
        var routeIds = new List<string>();
        for (var i = 1; i <= 40; i++)
        {
            var id = i.ToString("000", CultureInfo.InvariantCulture);
            routeIds.Add(id);
            var from = Places[random.Next(Places.Length)];
            var to = Places[(Array.IndexOf(Places, from) + 1 + random.Next(Places.Length - 1)) % Places.Length];
            routes.Append(CultureInfo.InvariantCulture, $"{id},{i}路,{from},{to},0{5 + random.Next(2)}:{random.Next(6)}0,{21 + random.Next(3)}:{random.Next(6)}0,{(i % 5 == 0 ? "2.00" : "1.00")}\n");
        }
        var stops = new StringBuilder("stop_id,stop_name,longitude,latitude,routes\n");
        for (var i = 1; i <= 120; i++)
        {
            var name = Places[i % Places.Length] + (i > Places.Length ? (i / Places.Length + 1).ToString(CultureInfo.InvariantCulture) + "号站" : "站");
            var lines = string.Join("/", routeIds.OrderBy(_ => random.Next()).Take(1 + random.Next(4)).Order());
            stops.Append(CultureInfo.InvariantCulture,
                $"S{i:0000},{name},{119.15 + random.NextDouble() * 0.35:0.000000},{34.55 + random.NextDouble() * 0.2:0.000000},\"{lines}\"\n");
        }
        await LoadAsync(loader, context.DataDirectory, "bus-routes", routes.ToString(), cancellationToken);
        await LoadAsync(loader, context.DataDirectory, "bus-stops", stops.ToString(), cancellationToken);
    }

    static async Task LoadAsync(DatasetLoader loader, string dataDirectory, string resourceId, string csv, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, $"seed-{resourceId}.csv");
        await File.WriteAllTextAsync(path, csv, new UTF8Encoding(false), ct);
        try
        {
            var load = await loader.RunAsync(new LoadRequest(resourceId, LoadModes.Replace, "csv", path, Path.GetFileName(path), new FileInfo(path).Length,
                "seed", "demo seed"), null, ct);
            if (load.Status != Datasets.LoadStatus.Succeeded || load.RowsQuarantined > 0)
                throw new InvalidOperationException($"Demo load of {resourceId} ended {load.Status} with {load.RowsQuarantined} rows quarantined: {load.Error}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
