using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lianqiao.Catalog;

internal static class CatalogApi
{
    public static void MapCatalogApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/catalog").WithTags("Catalog").RequireAuthorization(Policies.Member);

        api.MapGet("/", Search);
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

    static async Task<Ok<SearchResult>> Search(
        string? q, string[]? department, [FromQuery(Name = "class")] string[]? classCode, string[]? shareType, string[]? openType, string[]? format,
        string[]? updateCycle, string[]? grade, string[]? library, string[]? tag, string[]? status, string? sort, int? page, int? pageSize,
        HttpContext http, CatalogSearch search, CancellationToken ct)
    {
        var filters = new Dictionary<string, List<string>>();
        void Put(string name, string[]? values)
        {
            var list = values?.Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
            if (list is { Count: > 0 }) filters[name] = list;
        }
        Put("department", department);
        Put("class", classCode);
        Put("shareType", shareType);
        Put("openType", openType);
        Put("format", format);
        Put("updateCycle", updateCycle);
        Put("grade", grade);
        Put("library", library);
        Put("tag", tag);
        Put("status", status);
        var query = new SearchQuery { Q = q, Filters = filters, Sort = sort, Page = page ?? 1, PageSize = Math.Clamp(pageSize ?? 20, 1, 100) };
        return TypedResults.Ok(await search.SearchAsync(query, http.User.Caller(), ct));
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
