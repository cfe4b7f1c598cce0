using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>
/// DCAT-AP 3 feeds (JSON-LD and Turtle, paged with Hydra) for harvesters; the same visibility rule as the CKAN API:
/// anonymous callers and developers see open-eligible resources only.
/// </summary>
internal static class DcatFeeds
{
    const string Dcat = "http://www.w3.org/ns/dcat#", Dct = "http://purl.org/dc/terms/", Foaf = "http://xmlns.com/foaf/0.1/",
        Hydra = "http://www.w3.org/ns/hydra/core#", Xsd = "http://www.w3.org/2001/XMLSchema#", Lq = "urn:lianqiao:catalog#";

    sealed record Dataset(string Uri, string Slug, string Code, string Title, string Description, string Publisher, string PublisherUri,
        IReadOnlyList<string> Keywords, DateOnly? Issued, DateTimeOffset Modified, string Format, string UpdateCycle, string OpenType, string Landing);

    public static void MapDcatFeeds(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/catalog.jsonld", async (int? page, int? pageSize, HttpContext http, LianqiaoDb db, CatalogSearch search, CancellationToken ct) =>
        {
            var (datasets, next, p) = await PageAsync(page, pageSize, null, http, db, search, ct);
            var baseUrl = BaseUrl(http);
            var catalog = new JsonObject
            {
                ["@context"] = Context(),
                ["@id"] = $"{baseUrl}/catalog.jsonld",
                ["@type"] = "dcat:Catalog",
                ["dct:title"] = Lang("连桥政务信息资源目录"),
                ["dct:description"] = Lang("政务数据共享交换与开放平台的资源目录"),
                ["dcat:dataset"] = new JsonArray(datasets.Select(d => (JsonNode)Json(d)).ToArray()),
                ["hydra:view"] = View(baseUrl + "/catalog.jsonld", p, next),
            };
            return Results.Text(catalog.ToJsonString(), "application/ld+json; charset=utf-8");
        }).AllowAnonymous().WithTags("DCAT");

        routes.MapGet("/catalog.ttl", async (int? page, int? pageSize, HttpContext http, LianqiaoDb db, CatalogSearch search, CancellationToken ct) =>
        {
            var (datasets, next, p) = await PageAsync(page, pageSize, null, http, db, search, ct);
            var baseUrl = BaseUrl(http);
            var sb = new StringBuilder();
            sb.Append("@prefix dcat: <").Append(Dcat).Append("> .\n@prefix dct: <").Append(Dct).Append("> .\n@prefix foaf: <").Append(Foaf)
              .Append("> .\n@prefix hydra: <").Append(Hydra).Append("> .\n@prefix xsd: <").Append(Xsd).Append("> .\n@prefix lq: <").Append(Lq).Append("> .\n\n");
            sb.Append('<').Append(baseUrl).Append("/catalog.ttl> a dcat:Catalog ;\n  dct:title ").Append(Lit("连桥政务信息资源目录")).Append("@zh-CN");
            foreach (var d in datasets) sb.Append(" ;\n  dcat:dataset <").Append(d.Uri).Append('>');
            sb.Append(" .\n\n");
            sb.Append('<').Append(baseUrl).Append("/catalog.ttl?page=").Append(p).Append("> a hydra:PartialCollectionView");
            if (next) sb.Append(" ;\n  hydra:next <").Append(baseUrl).Append("/catalog.ttl?page=").Append(p + 1).Append('>');
            sb.Append(" .\n\n");
            foreach (var d in datasets) Turtle(sb, d);
            return Results.Text(sb.ToString(), "text/turtle; charset=utf-8");
        }).AllowAnonymous().WithTags("DCAT");

        routes.MapGet("/dataset/{slug}.jsonld", async (string slug, HttpContext http, LianqiaoDb db, CatalogSearch search, CancellationToken ct) =>
        {
            var (datasets, _, _) = await PageAsync(1, 1, slug, http, db, search, ct);
            if (datasets.Count == 0) return Results.NotFound();
            var node = Json(datasets[0]);
            node["@context"] = Context();
            return Results.Text(node.ToJsonString(), "application/ld+json; charset=utf-8");
        }).AllowAnonymous().WithTags("DCAT");
    }

    static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    static async Task<(List<Dataset> Datasets, bool Next, int Page)> PageAsync(int? page, int? pageSize, string? slug, HttpContext http,
        LianqiaoDb db, CatalogSearch search, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var member = caller is not null && (caller.Kind == PrincipalKind.Application
            || caller.Kind == PrincipalKind.User && caller.Roles.Overlaps([Roles.PlatformAdmin, Roles.Steward, Roles.Approver, Roles.Consumer]));
        var size = Math.Clamp(pageSize ?? 100, 1, 1000);
        var p = Math.Max(1, page ?? 1);
        var q = search.Filtered(new SearchQuery { OpenOnly = !member }, member ? caller : null).Where(r => r.Status == ResourceStatus.Published);
        if (slug is not null) q = q.Where(r => r.Slug == slug);
        var rows = await q.OrderBy(r => r.Slug).Skip((p - 1) * size).Take(size + 1).ToListAsync(ct);
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var depts = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, ct);
        var baseUrl = BaseUrl(http);
        var list = rows.Take(size).Select(r =>
        {
            var d = depts.GetValueOrDefault(r.DepartmentId);
            return new Dataset($"{baseUrl}/dataset/{r.Slug}", r.Slug, r.Code, r.Name, r.Summary, d?.Name ?? "?",
                $"{baseUrl}/api/3/action/organization_show?id=org-{d?.Code.ToLowerInvariant()}", r.Tags.Concat(r.Keywords).Distinct().ToList(),
                r.PublishDate, r.UpdatedAt, r.FormatCategory == "7" ? "API" : r.FormatType.Length > 0 ? r.FormatType : vocab.Label(CatalogVocabulary.FormatCategory, r.FormatCategory),
                vocab.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle), vocab.Label(CatalogVocabulary.OpenType, r.OpenEligible ? r.OpenType : CatalogRules.NotOpen),
                $"{baseUrl}/catalog/{r.Slug}");
        }).ToList();
        return (list, rows.Count > size, p);
    }

    static JsonObject Context() => new()
    {
        ["dcat"] = Dcat, ["dct"] = Dct, ["foaf"] = Foaf, ["hydra"] = Hydra, ["xsd"] = Xsd, ["lq"] = Lq,
    };

    static JsonObject Lang(string text) => new() { ["@value"] = text, ["@language"] = "zh-CN" };

    static JsonObject View(string url, int page, bool next)
    {
        var view = new JsonObject { ["@id"] = $"{url}?page={page}", ["@type"] = "hydra:PartialCollectionView" };
        if (next) view["hydra:next"] = new JsonObject { ["@id"] = $"{url}?page={page + 1}" };
        return view;
    }

    static JsonObject Json(Dataset d)
    {
        var o = new JsonObject
        {
            ["@id"] = d.Uri,
            ["@type"] = "dcat:Dataset",
            ["dct:identifier"] = d.Code,
            ["dct:title"] = Lang(d.Title),
            ["dct:description"] = Lang(d.Description),
            ["dct:publisher"] = new JsonObject { ["@id"] = d.PublisherUri, ["@type"] = "foaf:Organization", ["foaf:name"] = Lang(d.Publisher) },
            ["dcat:keyword"] = new JsonArray(d.Keywords.Select(k => (JsonNode)Lang(k)).ToArray()),
            ["dct:modified"] = new JsonObject { ["@value"] = d.Modified.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), ["@type"] = "xsd:dateTime" },
            ["dcat:landingPage"] = new JsonObject { ["@id"] = d.Landing },
            ["lq:updateCycle"] = Lang(d.UpdateCycle),
            ["lq:openType"] = Lang(d.OpenType),
            ["dcat:distribution"] = new JsonObject
            {
                ["@id"] = d.Uri + "#distribution", ["@type"] = "dcat:Distribution",
                ["dcat:accessURL"] = new JsonObject { ["@id"] = d.Landing }, ["dct:format"] = d.Format,
            },
        };
        if (d.Issued is { } issued) o["dct:issued"] = new JsonObject { ["@value"] = issued.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["@type"] = "xsd:date" };
        return o;
    }

    static void Turtle(StringBuilder sb, Dataset d)
    {
        sb.Append('<').Append(d.Uri).Append("> a dcat:Dataset ;\n")
          .Append("  dct:identifier ").Append(Lit(d.Code)).Append(" ;\n")
          .Append("  dct:title ").Append(Lit(d.Title)).Append("@zh-CN ;\n")
          .Append("  dct:description ").Append(Lit(d.Description)).Append("@zh-CN ;\n")
          .Append("  dct:publisher [ a foaf:Organization ; foaf:name ").Append(Lit(d.Publisher)).Append("@zh-CN ] ;\n");
        foreach (var k in d.Keywords) sb.Append("  dcat:keyword ").Append(Lit(k)).Append("@zh-CN ;\n");
        if (d.Issued is { } issued) sb.Append("  dct:issued \"").Append(issued.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("\"^^xsd:date ;\n");
        sb.Append("  dct:modified \"").Append(d.Modified.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append("\"^^xsd:dateTime ;\n")
          .Append("  dcat:landingPage <").Append(d.Landing).Append("> ;\n")
          .Append("  lq:updateCycle ").Append(Lit(d.UpdateCycle)).Append("@zh-CN ;\n")
          .Append("  lq:openType ").Append(Lit(d.OpenType)).Append("@zh-CN ;\n")
          .Append("  dcat:distribution [ a dcat:Distribution ; dcat:accessURL <").Append(d.Landing).Append("> ; dct:format ").Append(Lit(d.Format)).Append(" ] .\n\n");
    }

    static string Lit(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => c.ToString() });
        }
        return sb.Append('"').ToString();
    }
}
