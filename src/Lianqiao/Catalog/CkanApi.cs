using System.Text.Json;
using System.Text.Json.Nodes;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>
/// A CKAN-compatible read API (/api/3/action/…) so existing harvesters and clients read the catalog. Members of the
/// departments see every published resource; anonymous callers and developers see open-eligible ones with open fields only.
/// </summary>
internal static class CkanApi
{
    const string CkanVersion = "2.10.0";

    // CKAN's facet names → this catalog's facets.
    static readonly Dictionary<string, string> FacetMap = new()
    {
        ["organization"] = "department", ["groups"] = "library", ["res_format"] = "format", ["share_type"] = "shareType",
        ["open_type"] = "openType", ["update_cycle"] = "updateCycle", ["grade"] = "grade", ["class"] = "class",
    };

    public static void MapCkanApi(this IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/api/3/action/{action}", ["GET", "POST"], Dispatch).AllowAnonymous().WithTags("CKAN");
    }

    static async Task<IResult> Dispatch(string action, HttpContext http, LianqiaoDb db, CatalogSearch search, CancellationToken ct)
    {
        var help = $"{http.Request.Scheme}://{http.Request.Host}/api/3/action/help_show?name={Uri.EscapeDataString(action)}";
        Dictionary<string, string> p;
        try
        {
            p = await ParametersAsync(http, ct);
        }
        catch (JsonException)
        {
            return Error(help, 400, "Bad request", "JSON body could not be parsed / 请求体不是合法的 JSON");
        }
        var caller = Caller.From(http.User);
        // Only department members see unopened resources; developers are the public with a key.
        var member = caller is not null && (caller.Kind == PrincipalKind.Application
            || caller.Kind == PrincipalKind.User && caller.Roles.Overlaps([Roles.PlatformAdmin, Roles.Steward, Roles.Approver, Roles.Consumer]));
        var reader = new CkanReader(db, search, member ? caller : null, $"{http.Request.Scheme}://{http.Request.Host}");
        try
        {
            object? result = action switch
            {
                "status_show" => new JsonObject
                {
                    ["ckan_version"] = CkanVersion, ["site_title"] = "连桥 Lianqiao", ["site_description"] = "政务数据共享交换与开放平台",
                    ["site_url"] = reader.BaseUrl, ["extensions"] = new JsonArray(), ["locale_default"] = "zh_Hans_CN",
                },
                "package_list" => await reader.PackageListAsync(Int(p, "limit", 1000, 1, 10000), Int(p, "offset", 0, 0, int.MaxValue), ct),
                "package_show" => await reader.PackageShowAsync(Required(p, "id"), ct),
                "package_search" => await reader.PackageSearchAsync(p, ct),
                "resource_show" => await reader.ResourceShowAsync(Required(p, "id"), ct),
                "organization_list" => await reader.OrganizationListAsync(Bool(p, "all_fields"), ct),
                "organization_show" => await reader.OrganizationShowAsync(Required(p, "id"), ct),
                "group_list" => await reader.GroupListAsync(Bool(p, "all_fields"), ct),
                "tag_list" => await reader.TagListAsync(p.GetValueOrDefault("query"), ct),
                _ => throw new CkanError(400, "Bad request", $"Action name not known: {action}"),
            };
            if (result is null) return Error(help, 404, "Not Found Error", "Not found / 未找到");
            return Results.Json(new JsonObject { ["help"] = help, ["success"] = true, ["result"] = JsonSerializer.SerializeToNode(result) }, statusCode: 200);
        }
        catch (CkanError e)
        {
            return Error(help, e.Status, e.Type, e.Message);
        }
    }

    static IResult Error(string help, int status, string type, string message) => Results.Json(new JsonObject
    {
        ["help"] = help, ["success"] = false, ["error"] = new JsonObject { ["__type"] = type, ["message"] = message },
    }, statusCode: status);

    sealed class CkanError(int status, string type, string message) : Exception(message)
    {
        public int Status { get; } = status;
        public string Type { get; } = type;
    }

    static string Required(Dictionary<string, string> p, string name) =>
        p.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v
            : throw new CkanError(409, "Validation Error", $"{name}: Missing value / 缺少参数 {name}");

    static int Int(Dictionary<string, string> p, string name, int fallback, int min, int max)
    {
        if (!p.TryGetValue(name, out var v) || string.IsNullOrWhiteSpace(v)) return fallback;
        return int.TryParse(v, out var n) && n >= min ? Math.Min(n, max)
            : throw new CkanError(409, "Validation Error", $"{name}: Invalid integer / 参数 {name} 不是合法整数");
    }

    static bool Bool(Dictionary<string, string> p, string name) => p.TryGetValue(name, out var v) && v is "true" or "True" or "1";

    /// <summary>Query string and, for POST, a JSON object body (CKAN's clients POST); body values win.</summary>
    static async Task<Dictionary<string, string>> ParametersAsync(HttpContext http, CancellationToken ct)
    {
        var p = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.ContentLength is not 0
            && http.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: ct);
            if (body is JsonObject o)
            {
                foreach (var (k, v) in o)
                    p[k] = v switch { null => "", JsonValue jv when jv.TryGetValue<string>(out var s) => s, _ => v.ToJsonString() };
            }
        }
        else if (HttpMethods.IsPost(http.Request.Method) && http.Request.HasFormContentType)
        {
            foreach (var (k, v) in await http.Request.ReadFormAsync(ct)) p[k] = v.ToString();
        }
        return p;
    }

    sealed class CkanReader(LianqiaoDb db, CatalogSearch search, Caller? member, string baseUrl)
    {
        public string BaseUrl { get; } = baseUrl;
        Dictionary<Guid, Department>? departments;
        CatalogVocabulary? vocab;

        async Task<Dictionary<Guid, Department>> DepartmentsAsync(CancellationToken ct) =>
            departments ??= await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, ct);

        static string OrgName(Department d) => "org-" + d.Code.ToLowerInvariant();

        IQueryable<CatalogResource> Visible() =>
            search.Filtered(new SearchQuery { OpenOnly = member is null }, member).Where(r => r.Status == ResourceStatus.Published);

        public async Task<List<string>> PackageListAsync(int limit, int offset, CancellationToken ct) =>
            await Visible().OrderBy(r => r.Slug).Skip(offset).Take(limit).Select(r => r.Slug).ToListAsync(ct);

        async Task<CatalogResource?> FindAsync(string id, CancellationToken ct) =>
            await Visible().Include(r => r.Items).FirstOrDefaultAsync(r => r.Slug == id || r.Code == id, ct);

        public async Task<JsonObject?> PackageShowAsync(string id, CancellationToken ct) =>
            await FindAsync(id, ct) is { } r ? await PackageAsync(r, ct) : null;

        public async Task<JsonObject?> ResourceShowAsync(string id, CancellationToken ct) =>
            await FindAsync(id, ct) is { } r ? Resource(r, await VocabAsync(ct)) : null;

        async Task<CatalogVocabulary> VocabAsync(CancellationToken ct) => vocab ??= await CatalogVocabulary.LoadAsync(db, ct);

        async Task<JsonObject> PackageAsync(CatalogResource r, CancellationToken ct)
        {
            var v = await VocabAsync(ct);
            var dept = (await DepartmentsAsync(ct)).GetValueOrDefault(r.DepartmentId);
            var open = CatalogRules.Eligibility(r);
            var items = r.Items.OrderBy(i => i.Ordinal).Where(i => member is not null || open.OpenColumns.Contains(i.ColumnName));
            var extras = new JsonArray();
            void Extra(string key, string? value) { if (!string.IsNullOrEmpty(value)) extras.Add(new JsonObject { ["key"] = key, ["value"] = value }); }
            Extra("resource_code", r.Code);
            Extra("classification", $"{v.Label(CatalogVocabulary.ResourceClass, r.ClassCode)}/{v.Label(CatalogVocabulary.Subject, r.ClassCode + r.SubjectCode)}/{r.CatalogCode}{r.DetailCode}");
            Extra("provider_code", r.ProviderCode);
            Extra("share_type", v.Label(CatalogVocabulary.ShareType, r.ShareType));
            Extra("open_type", v.Label(CatalogVocabulary.OpenType, open.Eligible ? open.EffectiveOpenType : CatalogRules.NotOpen));
            if (open.Eligible && r.OpenType == CatalogRules.OpenConditional) Extra("open_condition", r.OpenCondition);
            Extra("update_cycle", v.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle));
            Extra("publish_date", r.PublishDate?.ToString("yyyy-MM-dd"));
            Extra("library", v.Label(CatalogVocabulary.Library, r.Library));
            Extra("grade", r.Grade);
            if (member is not null)
            {
                Extra("share_condition", r.ShareCondition);
                Extra("classification_level", v.Label(CatalogVocabulary.ClassificationLevel, r.ClassificationLevel));
            }
            Extra("related_codes", string.Join(",", r.RelatedCodes));
            var fields = new JsonArray();
            foreach (var i in items)
            {
                fields.Add(new JsonObject
                {
                    ["id"] = i.ColumnName, ["label"] = i.Name, ["type"] = v.Label(CatalogVocabulary.DataItemType, i.DataType), ["type_code"] = i.DataType,
                    ["length"] = i.Length, ["primary_key"] = i.IsKey, ["sensitivity"] = i.Sensitivity,
                    ["masked"] = i.MaskingRule != MaskingRules.None && i.Sensitivity != "L1",
                });
            }
            var resource = Resource(r, v);
            resource["fields"] = fields;
            return new JsonObject
            {
                ["id"] = r.Slug, ["name"] = r.Slug, ["title"] = r.Name, ["notes"] = r.Summary, ["type"] = "dataset", ["state"] = "active",
                ["private"] = false, ["version"] = r.Version.ToString(), ["url"] = $"{BaseUrl}/catalog/{r.Slug}",
                ["metadata_created"] = r.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffff"),
                ["metadata_modified"] = r.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffff"),
                ["author"] = dept?.Name, ["maintainer"] = dept?.Name, ["maintainer_email"] = null, ["author_email"] = null,
                ["contact"] = r.Contact, ["license_id"] = "notspecified", ["license_title"] = "未指定 / not specified",
                ["owner_org"] = dept?.Id.ToString(),
                ["organization"] = dept is null ? null : Organization(dept, null),
                ["groups"] = new JsonArray(new JsonObject { ["name"] = r.Library, ["display_name"] = v.Label(CatalogVocabulary.Library, r.Library), ["title"] = v.Label(CatalogVocabulary.Library, r.Library) }),
                ["tags"] = new JsonArray(r.Tags.Concat(r.Keywords).Distinct().Select(t => (JsonNode)new JsonObject { ["name"] = t, ["display_name"] = t, ["state"] = "active" }).ToArray()),
                ["num_tags"] = r.Tags.Concat(r.Keywords).Distinct().Count(),
                ["extras"] = extras,
                ["resources"] = new JsonArray(resource),
                ["num_resources"] = 1,
            };
        }

        JsonObject Resource(CatalogResource r, CatalogVocabulary v) => new()
        {
            ["id"] = r.Slug, ["package_id"] = r.Slug, ["name"] = r.Name, ["description"] = r.Summary,
            ["format"] = r.FormatCategory == "7" ? "API" : string.IsNullOrEmpty(r.FormatType) ? v.Label(CatalogVocabulary.FormatCategory, r.FormatCategory) : r.FormatType,
            ["format_category"] = v.Label(CatalogVocabulary.FormatCategory, r.FormatCategory),
            ["url"] = $"{BaseUrl}/dataset/{r.Slug}.jsonld", ["state"] = "active", ["position"] = 0,
            ["created"] = r.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffff"),
            ["last_modified"] = r.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffff"),
        };

        JsonObject Organization(Department d, int? count)
        {
            var o = new JsonObject
            {
                ["id"] = d.Id.ToString(), ["name"] = OrgName(d), ["title"] = d.Name, ["display_name"] = d.Name, ["type"] = "organization",
                ["state"] = "active", ["is_organization"] = true, ["description"] = $"统一社会信用代码 {d.Code}", ["image_url"] = "",
            };
            if (count is { } c) o["package_count"] = c;
            return o;
        }

        public async Task<JsonObject> PackageSearchAsync(Dictionary<string, string> p, CancellationToken ct)
        {
            var rows = Int(p, "rows", 10, 0, 1000);
            var start = Int(p, "start", 0, 0, int.MaxValue);
            var filters = new Dictionary<string, List<string>>();
            var depts = await DepartmentsAsync(ct);
            foreach (var (field, value) in ParseFq(p.GetValueOrDefault("fq")))
            {
                var key = field == "tags" ? "tag" : FacetMap.GetValueOrDefault(field);
                if (key is null) continue;
                var v = key == "department"
                    ? depts.Values.FirstOrDefault(d => OrgName(d) == value || d.Id.ToString() == value || d.Name == value)?.Id.ToString() ?? Guid.Empty.ToString()
                    : value;
                if (!filters.TryGetValue(key, out var list)) filters[key] = list = [];
                list.Add(v);
            }
            var query = new SearchQuery
            {
                Q = p.GetValueOrDefault("q") is { } q && q != "*:*" ? q : null, Filters = filters, OpenOnly = member is null,
                Sort = p.GetValueOrDefault("sort") switch
                {
                    "title_string asc" or "name asc" => "name asc", "title_string desc" or "name desc" => "name desc",
                    "metadata_created desc" => "created", _ => null,
                },
                Facets = false,
            };
            var q2 = search.Filtered(query, member);
            var count = await q2.CountAsync(ct);
            var page = await CatalogSearch.Sorted(q2, query.Sort).Skip(start).Take(rows).Include(r => r.Items).ToListAsync(ct);
            var results = new JsonArray();
            foreach (var r in page) results.Add(await PackageAsync(r, ct));

            var facetFields = ParseFacetFields(p.GetValueOrDefault("facet.field"));
            var limit = Int(p, "facet.limit", 50, -1, 1000);
            var searchFacets = new JsonObject();
            var facets = new JsonObject();
            if (facetFields.Count > 0 && count > 0)
            {
                var all = await search.SearchAsync(query with { Facets = true, PageSize = 1 }, member, ct);
                foreach (var field in facetFields)
                {
                    if (field == "tags")
                    {
                        var tagCounts = (await q2.Select(r => r.Tags).ToListAsync(ct)).SelectMany(t => t).GroupBy(t => t)
                            .Select(g => new FacetValue(g.Key, g.Key, g.Count())).OrderByDescending(f => f.Count).ToList();
                        AddFacet(field, "tags", tagCounts);
                        continue;
                    }
                    if (!FacetMap.TryGetValue(field, out var ours) || !all.Facets.TryGetValue(ours, out var values)) continue;
                    var mapped = ours == "department"
                        ? values.Select(f => depts.TryGetValue(Guid.Parse(f.Value), out var d) ? f with { Value = OrgName(d) } : f).ToList()
                        : values.ToList();
                    AddFacet(field, field, mapped);
                }
            }
            return new JsonObject
            {
                ["count"] = count, ["sort"] = p.GetValueOrDefault("sort") ?? "metadata_modified desc", ["results"] = results,
                ["facets"] = facets, ["search_facets"] = searchFacets,
            };

            void AddFacet(string field, string title, List<FacetValue> values)
            {
                var items = new JsonArray();
                var counts = new JsonObject();
                foreach (var f in limit < 0 ? values : values.Take(limit))
                {
                    items.Add(new JsonObject { ["name"] = f.Value, ["display_name"] = f.Label, ["count"] = f.Count });
                    counts[f.Value] = f.Count;
                }
                searchFacets[field] = new JsonObject { ["title"] = title, ["items"] = items };
                facets[field] = counts;
            }
        }

        /// <summary>Solr-style filters as CKAN clients send them: <c>organization:org-x res_format:"REST API"</c>.</summary>
        static List<(string Field, string Value)> ParseFq(string? fq)
        {
            var list = new List<(string, string)>();
            if (string.IsNullOrWhiteSpace(fq)) return list;
            var i = 0;
            while (i < fq.Length)
            {
                while (i < fq.Length && (char.IsWhiteSpace(fq[i]) || fq[i] == '+')) i++;
                var colon = fq.IndexOf(':', i);
                if (colon < 0) break;
                var field = fq[i..colon].Trim();
                i = colon + 1;
                string value;
                if (i < fq.Length && fq[i] == '"')
                {
                    var end = fq.IndexOf('"', i + 1);
                    if (end < 0) end = fq.Length;
                    value = fq[(i + 1)..end];
                    i = end + 1;
                }
                else
                {
                    var end = i;
                    while (end < fq.Length && !char.IsWhiteSpace(fq[end])) end++;
                    value = fq[i..end];
                    i = end;
                }
                if (field.Length > 0) list.Add((field, value));
            }
            return list;
        }

        static List<string> ParseFacetFields(string? raw)
        {
            if (string.IsNullOrWhiteSpace(raw)) return [];
            try
            {
                return JsonSerializer.Deserialize<List<string>>(raw) ?? [];
            }
            catch (JsonException)
            {
                return raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            }
        }

        public async Task<object> OrganizationListAsync(bool allFields, CancellationToken ct)
        {
            var depts = (await DepartmentsAsync(ct)).Values.OrderBy(d => OrgName(d)).ToList();
            if (!allFields) return depts.Select(OrgName).ToList();
            var counts = await Visible().GroupBy(r => r.DepartmentId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
            return depts.Select(d => Organization(d, counts.GetValueOrDefault(d.Id))).ToList();
        }

        public async Task<JsonObject?> OrganizationShowAsync(string id, CancellationToken ct)
        {
            var d = (await DepartmentsAsync(ct)).Values.FirstOrDefault(x => OrgName(x) == id || x.Id.ToString() == id);
            if (d is null) return null;
            return Organization(d, await Visible().CountAsync(r => r.DepartmentId == d.Id, ct));
        }

        public async Task<object> GroupListAsync(bool allFields, CancellationToken ct)
        {
            var v = await VocabAsync(ct);
            var libraries = v.Entries(CatalogVocabulary.Library);
            if (!allFields) return libraries.Keys.ToList();
            var counts = await Visible().GroupBy(r => r.Library).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
            return libraries.Select(kv => new JsonObject
            {
                ["id"] = kv.Key, ["name"] = kv.Key, ["title"] = kv.Value, ["display_name"] = kv.Value, ["type"] = "group",
                ["state"] = "active", ["is_organization"] = false, ["package_count"] = counts.GetValueOrDefault(kv.Key),
            }).ToList();
        }

        public async Task<List<string>> TagListAsync(string? query, CancellationToken ct)
        {
            var tags = (await Visible().Select(r => r.Tags).ToListAsync(ct)).SelectMany(t => t).Distinct().Order(StringComparer.Ordinal);
            return (query is { Length: > 0 } ? tags.Where(t => t.Contains(query, StringComparison.OrdinalIgnoreCase)) : tags).ToList();
        }
    }
}
