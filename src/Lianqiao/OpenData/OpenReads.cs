using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Domain.Query;
using Lianqiao.Errors;
using Lianqiao.Masking;
using Lianqiao.Organizations;
using Lianqiao.Output;
using Lianqiao.Sharing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Lianqiao.OpenData;

/// <summary>
/// Rows leaving through the open portal: the same <see cref="DataQuery"/> and <see cref="TabularOutput"/> as the data
/// API, under a scope the catalog derives. 无条件开放 reads need no grant: a synthetic in-memory scope holds exactly
/// the open columns. 有条件开放 reads need the developer's own grant, narrowed to the open columns again.
/// Masking always applies: the public never gets an item unmasked.
/// </summary>
internal sealed class OpenReads(LianqiaoDb db, ICatalogReader catalog, GrantService grants, MaskingService masking, OpenCounterBuffer counters,
    ExchangeCounterBuffer exchanges, IAuditLog audit, IOptions<OpenDataOptions> options, IMemoryCache cache)
{
    public sealed record Scope(ResourceDto Resource, DatasetTable Table, Grant Grant);

    /// <summary>How long a node reuses a catalog entry it read for the open API (records and exports).</summary>
    /// <remarks>
    /// As in the data API (<see cref="DataApi"/>): a busy dataset costs its two catalog queries once a second, not on
    /// every call. The open-set check (<see cref="OpenCatalog.IsOpen"/>) still runs on every call, on an entry at most
    /// this old, so a resource retired, set to 不予开放 or raised to 核心/重要 leaves the open API within a second.
    /// The conditional developer's grant and the data table are never cached.
    /// </remarks>
    internal static readonly TimeSpan CatalogCacheFor = TimeSpan.FromSeconds(1);

    public async Task<(Scope? Scope, IResult? Problem)> ResolveAsync(Caller? caller, string resourceId, CancellationToken ct)
    {
        var cacheKey = "open-api-resource:" + resourceId;
        if (!cache.TryGetValue(cacheKey, out ResourceDto? resource))
        {
            resource = await catalog.FindAsync(resourceId, ct);
            if (resource is not null) cache.Set(cacheKey, resource, CatalogCacheFor);
        }
        return await ResolveAsync(caller, resource, ct);
    }

    /// <summary>The same, for a resource the caller has already read from the catalog.</summary>
    public async Task<(Scope? Scope, IResult? Problem)> ResolveAsync(Caller? caller, ResourceDto? resource, CancellationToken ct)
    {
        // Anything outside the open set is simply not there for the public: no hint that it exists.
        if (!OpenCatalog.IsOpen(resource)) return (null, Problems.NotFound("开放数据集", "open dataset"));
        var openColumns = resource!.Open.OpenColumns;
        Grant scope;
        if (resource.Open.EffectiveOpenType == CatalogRules.OpenUnconditional)
        {
            scope = new Grant
            {
                PrincipalKind = PrincipalKind.Developer, PrincipalId = caller?.Id ?? "public", ResourceId = resource.Id,
                ProviderDepartmentId = resource.DepartmentId, Kind = GrantKind.Table, Fields = [.. openColumns],
            };
        }
        else
        {
            if (caller?.Kind != PrincipalKind.Developer)
                return (null, Problems.Of(403, "developer-grant-required", "有条件开放数据须注册开发者申请获批后调用",
                    "This dataset is conditionally open: register as a developer, apply, and call with your key once the provider approves."));
            var grant = await grants.FindActiveAsync(caller, resource.Id, GrantKind.Table, ct);
            if (grant is null)
                return (null, Problems.Of(403, "no-grant", "尚未获得该数据集的使用授权", "You hold no active grant on this dataset; apply first (POST /open/api/v1/applications)."));
            scope = new Grant
            {
                PrincipalKind = PrincipalKind.Developer, PrincipalId = caller.Id, ResourceId = resource.Id, ProviderDepartmentId = grant.ProviderDepartmentId,
                Kind = GrantKind.Table, Fields = grant.Fields.Intersect(openColumns).ToList(), RowFilter = grant.RowFilter, Id = grant.Id,
            };
        }
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == resource.Id, ct);
        if (table is null) return (null, Problems.Of(404, "no-data", "该数据集尚无数据", "No data has been loaded for this dataset yet."));
        return (new Scope(resource, table, scope), null);
    }

    /// <summary>Streams a query's rows to the response; counts it as an API call or a download; audits downloads and conditional reads.</summary>
    public async Task<IResult> StreamAsync(HttpContext http, string resourceId, DataRequest request, string? format, bool bom, bool download, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var (scope, problem) = await ResolveAsync(caller, resourceId, ct);
        if (problem is not null) return problem;
        var (resource, table, grant) = (scope!.Resource, scope.Table, scope.Grant);
        if (!TabularOutput.TryParse(format ?? (download ? "csv" : "json"), out var outputFormat) || outputFormat == OutputFormat.Parquet)
            return Problems.Validation(new Dictionary<string, string[]> { ["format"] = ["格式应为 json、ndjson、csv 或 xlsx / format must be json, ndjson, csv or xlsx"] });
        if (request.Limit is < 0 || request.Offset is < 0 || request.Since is not null)
            return Problems.Validation(new Dictionary<string, string[]> { ["$limit"] = ["$limit、$offset 不能为负；开放接口不提供变更订阅 / $limit and $offset cannot be negative; the open API has no change feed"] });
        var max = options.Value.MaxJsonRows;
        var limit = outputFormat == OutputFormat.Json && !download ? Math.Min(request.Limit ?? 100, max) : request.Limit ?? long.MaxValue / 4;

        DataQuery query;
        try
        {
            query = DataQuery.Build(resource, table, grant, request, limit);
        }
        catch (QueryException ex)
        {
            return Problems.Of(400, "bad-query", "查询参数有误", "The $select, $where, $order or cursor parameter is invalid; see errors.",
                new Dictionary<string, object?>
                {
                    ["errors"] = new Dictionary<string, string[]> { ["query"] = ex.Errors.Select(e => $"{e.MessageZh} / {e.MessageEn} ({e.Code} at {e.Position})").ToArray() },
                });
        }

        var key = masking.PseudonymKeyFor("public");
        http.Response.ContentType = TabularOutput.ContentType(outputFormat);
        if (download || outputFormat != OutputFormat.Json)
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"{resource.Id}{(bom ? "-excel" : "")}.{TabularOutput.Extension(outputFormat)}\"";
        var counting = new CountingStream(http.Response.Body);
        long rows = 0;
        var outcome = AuditOutcome.Success;
        try
        {
            rows = await TabularOutput.WriteAsync(counting, outputFormat, query.Columns, query.RowsAsync(db, key, ct), ct, bom,
                count => new Dictionary<string, object?>
                {
                    ["count"] = count,
                    ["nextCursor"] = count < query.Limit || query.Last < 0 ? null : DataQuery.EncodeCursor(query.Last),
                });
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            outcome = AuditOutcome.Failure;
            throw;
        }
        finally
        {
            var conditional = resource.Open.EffectiveOpenType == CatalogRules.OpenConditional;
            if (download || conditional)
                await audit.WriteAsync(AuditEntry.For(http, download ? "open.export" : "open.read", "resource", resource.Id, new
                {
                    grantId = conditional ? grant.Id : (Guid?)null, fields = query.Columns.Select(c => c.Name), request.Where, request.Order,
                    format = outputFormat.ToString().ToLowerInvariant(), bom, rows, bytes = counting.Written,
                    ip = http.Connection.RemoteIpAddress?.ToString(),
                }, outcome), CancellationToken.None);
            counters.Read(resource.Id, download);
            exchanges.Add(resource.DepartmentId, Guid.Empty, resource.Id, rows, counting.Written);
        }
        return Results.Empty;
    }

    /// <summary>The first rows, masked, for the dataset page's preview table (never the conditional ones).</summary>
    public async Task<(IReadOnlyList<OutputColumn> Columns, List<object?[]> Rows)?> PreviewAsync(ResourceDto resource, int rows, CancellationToken ct)
    {
        var (scope, problem) = await ResolveAsync(null, resource, ct);
        if (problem is not null) return null;
        var query = DataQuery.Build(scope!.Resource, scope.Table, scope.Grant, new DataRequest(null, null, null, rows, null, null, null), rows);
        var list = new List<object?[]>();
        await foreach (var row in query.RowsAsync(db, masking.PseudonymKeyFor("public"), ct)) list.Add(row);
        return (query.Columns, list);
    }
}
