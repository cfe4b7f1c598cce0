using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lianqiao.Catalog;

internal static class CatalogApi
{
    public static void MapCatalogApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/catalog").WithTags("Catalog").RequireAuthorization(Policies.Member);

        api.MapGet("/", Search);
        api.MapGet("/template", Template);
        api.MapPost("/import", Import)
            // A workbook is bigger than the group's JSON limit; the zip itself is checked before parsing.
            .WithMetadata(new RequestSizeLimitAttribute(CatalogExcel.MaxUploadBytes + 64 * 1024));
        api.MapGet("/export", Export);
        api.MapGet("/standard-export", StandardExport);
        api.MapPost("/", Create);
        api.MapGet("/by-code", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string code, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.GetByCodeAsync(code, http.User.Caller(), ct)));
        api.MapGet("/review-queue", async (CatalogService catalog, CancellationToken ct) => TypedResults.Ok(await catalog.ReviewQueueAsync(ct)))
            .RequireAuthorization(Policies.PlatformAdmin);
        api.MapGet("/{slug}", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.GetAsync(slug, http.User.Caller(), ct)));
        api.MapGet("/{slug}/draft", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.GetDraftAsync(slug, http.User.Caller(), ct)));
        api.MapPut("/{slug}", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, ResourceInput input, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.UpdateAsync(slug, input, http.User.Caller(), http, ct)));
        api.MapPost("/{slug}/submit", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, [FromBody] CommentInput? input, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.SubmitAsync(slug, input?.Comment, http.User.Caller(), http, ct)));
        api.MapPost("/{slug}/review", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, ReviewInput input, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.ReviewAsync(slug, input, http.User.Caller(), http, ct)))
            .RequireAuthorization(Policies.PlatformAdmin);
        api.MapPost("/{slug}/versions", NewVersion);
        api.MapGet("/{slug}/versions", async Task<Results<Ok<ResourceHistoryDto>, ProblemHttpResult>> (string slug, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.HistoryAsync(slug, http.User.Caller(), ct)));
        api.MapGet("/{slug}/versions/{version:int}", async Task<Results<Ok<VersionDto>, ProblemHttpResult>> (string slug, int version, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.VersionAsync(slug, version, http.User.Caller(), ct)));
        api.MapGet("/{slug}/diff", async Task<Results<Ok<DiffDto>, ProblemHttpResult>> (string slug, int from, int to, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.DiffAsync(slug, from, to, http.User.Caller(), ct)));
        api.MapPost("/{slug}/retire", async Task<Results<Ok<ResourceDto>, ProblemHttpResult>> (string slug, [FromBody] CommentInput? input, HttpContext http, CatalogService catalog, CancellationToken ct) =>
            Respond(await catalog.RetireAsync(slug, input?.Comment, http.User.Caller(), http, ct)));
    }

    static Results<Ok<T>, ProblemHttpResult> Respond<T>(CatalogOutcome<T> outcome) =>
        outcome.Problem is { } p ? p : TypedResults.Ok(outcome.Value!);

    static async Task<Ok<SearchResult>> Search([AsParameters] CatalogQuery query, HttpContext http, CatalogSearch search, CancellationToken ct) =>
        TypedResults.Ok(await search.SearchAsync(query.ToSearch(), http.User.Caller(), ct));

    static async Task<FileContentHttpResult> Template(HttpContext http, CatalogExcel excel, TimeProvider time, CancellationToken ct) =>
        TypedResults.File(await excel.TemplateAsync(http.User.Caller(), ct), CatalogExcel.XlsxType,
            $"lianqiao-catalog-template-{time.GetUtcNow():yyyyMMdd}.xlsx");

    static async Task<Results<Ok<ImportReport>, ProblemHttpResult>> Import(string? mode, HttpContext http, CatalogExcel excel,
        IAntiforgery antiforgery, CancellationToken ct)
    {
        var caller = http.User.Caller();
        if (!caller.IsAdmin && !caller.Is(Roles.Steward)) return Problems.Forbidden("Only stewards and platform admins import catalog resources.");
        if (mode is not (null or "all" or "valid"))
            return Problems.Validation(new Dictionary<string, string[]> { ["mode"] = ["导入方式为 all 或 valid / mode is all or valid"] });
        // A browser session could be made to post a form here from another site; key callers cannot.
        if (ApiKeyAuthenticationHandler.ReadKey(http.Request) is null)
        {
            try { await antiforgery.ValidateRequestAsync(http); }
            catch (AntiforgeryValidationException)
            {
                return Problems.Of(400, "antiforgery", "表单令牌无效", "A signed-in browser must send the antiforgery token; API clients use an API key.");
            }
        }
        var (report, problem) = await excel.ImportUploadAsync(http, mode != "valid", ct);
        if (problem is not null) return problem;
        if (!report!.Committed && report.Failed > 0 && report.Mode == "all")
            return Problems.Of(422, "import-rejected", $"导入未执行：{report.Failed} 行有错误，未写入任何资源",
                "Nothing was imported: some rows are invalid (all-or-nothing mode); see report.",
                new Dictionary<string, object?> { ["report"] = report });
        return TypedResults.Ok(report);
    }

    static PushStreamHttpResult Export([AsParameters] CatalogQuery query, HttpContext http, CatalogExcel excel, TimeProvider time) =>
        TypedResults.Stream(body => excel.ExportAsync(body, query.ToSearch(), http.User.Caller(), http.RequestAborted),
            CatalogExcel.XlsxType, $"lianqiao-catalog-{time.GetUtcNow():yyyyMMdd-HHmm}.xlsx");

    static Results<PushStreamHttpResult, ProblemHttpResult> StandardExport(string? format, HttpContext http, CatalogStandardExport export, TimeProvider time)
    {
        var caller = http.User.Caller();
        return format switch
        {
            null or "" or "json" => TypedResults.Stream(body => export.WriteJsonAsync(body, caller, time.GetUtcNow(), http.RequestAborted),
                "application/json; charset=utf-8"),
            "xlsx" => TypedResults.Stream(body => export.WriteXlsxAsync(body, caller, http.RequestAborted), CatalogExcel.XlsxType,
                $"lianqiao-catalog-standard-{time.GetUtcNow():yyyyMMdd}.xlsx"),
            _ => Problems.Validation(new Dictionary<string, string[]> { ["format"] = ["格式为 json 或 xlsx / format is json or xlsx"] }),
        };
    }

    static async Task<Results<Created<ResourceDto>, ProblemHttpResult>> NewVersion(string slug, HttpContext http, CatalogService catalog, CancellationToken ct)
    {
        var outcome = await catalog.NewVersionAsync(slug, http.User.Caller(), http, ct);
        return outcome.Problem is { } p ? p : TypedResults.Created($"/api/v1/catalog/{slug}/draft", outcome.Value);
    }

    static async Task<Results<Created<ResourceDto>, ProblemHttpResult>> Create(ResourceInput input, HttpContext http, CatalogService catalog, CancellationToken ct)
    {
        var outcome = await catalog.CreateAsync(input, http.User.Caller(), http, ct);
        return outcome.Problem is { } p ? p : TypedResults.Created($"/api/v1/catalog/{outcome.Value!.Id}", outcome.Value);
    }
}

/// <summary>The query string of a catalog search, shared by the search itself and its XLSX export.</summary>
internal sealed record CatalogQuery(
    string? Q, string[]? Department, [FromQuery(Name = "class")] string[]? Class, string[]? ShareType, string[]? OpenType,
    string[]? Format, string[]? UpdateCycle, string[]? Grade, string[]? Library, string[]? Tag, string[]? Status, string? Sort, int? Page, int? PageSize)
{
    public SearchQuery ToSearch()
    {
        var filters = new Dictionary<string, List<string>>();
        void Put(string name, string[]? values)
        {
            var list = values?.Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
            if (list is { Count: > 0 }) filters[name] = list;
        }
        Put("department", Department);
        Put("class", Class);
        Put("shareType", ShareType);
        Put("openType", OpenType);
        Put("format", Format);
        Put("updateCycle", UpdateCycle);
        Put("grade", Grade);
        Put("library", Library);
        Put("tag", Tag);
        Put("status", Status);
        return new SearchQuery { Q = Q, Filters = filters, Sort = Sort, Page = Page ?? 1, PageSize = Math.Clamp(PageSize ?? 20, 1, 100) };
    }
}
