using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Domain.Query;
using Lianqiao.Errors;
using Lianqiao.Masking;
using Lianqiao.Organizations;
using Lianqiao.Output;
using Lianqiao.Reference;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Lianqiao.Sharing;

public sealed record VerifyInput(Dictionary<string, string?>? Values);
public sealed record VerifyResult(bool Match);

/// <summary>
/// The data API (GET /api/v1/data/{resourceId}) and the verification API (POST /api/v1/verify/{resourceId}):
/// the only ways an application reads another department's rows, always under its grant, masked, counted and audited.
/// </summary>
internal static class DataApi
{
    static readonly TimeSpan MetadataCacheFor = TimeSpan.FromSeconds(1);

    /// <summary>JSON pages default to this many rows; streaming formats default to everything the grant allows.</summary>
    const long DefaultJsonPage = 1000;

    public static void MapDataApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/data/{resourceId}", Read).WithTags("Sharing").RequireAuthorization(Policies.SignedIn);
        routes.MapPost("/api/v1/verify/{resourceId}", Verify).WithTags("Sharing").RequireAuthorization(Policies.SignedIn)
            .RequireRateLimiting(SharingModule.VerifyRateLimit);
    }

    static async Task<IResult> Read(string resourceId, HttpContext http, LianqiaoDb db, ICatalogReader catalog, GrantService grants,
        QuotaCounter quota, MaskingService masking, IAuditLog audit, ExchangeCounterBuffer exchanges,
        [FromQuery(Name = "$select")] string? select, [FromQuery(Name = "$where")] string? where, [FromQuery(Name = "$order")] string? order,
        [FromQuery(Name = "$limit")] long? limit, [FromQuery(Name = "$offset")] long? offset, string? cursor, long? since, string? format, bool? bom,
        CancellationToken ct)
    {
        var caller = http.User.Caller();
        var access = await ResolveAsync(caller, resourceId, db, catalog, grants, http.RequestServices.GetRequiredService<IMemoryCache>(), ct);
        if (access.Problem is not null) return access.Problem;
        var (resource, table, grant) = (access.Resource!, access.Table!, access.Grant!);
        if (grant.VerificationOnly)
            return Problems.Of(403, "verification-only", "该授权仅可核验，不可获取数据", "This grant allows verification only, not reading rows.");
        if (!TabularOutput.TryParse(format, out var outputFormat))
            return Problems.Validation(new Dictionary<string, string[]> { ["format"] = ["格式应为 json、ndjson、csv、xlsx 或 parquet / format must be json, ndjson, csv, xlsx or parquet"] });
        if (limit is < 0 || offset is < 0 || since is < 0)
            return Problems.Validation(new Dictionary<string, string[]> { ["$limit"] = ["$limit、$offset、since 不能为负 / $limit, $offset and since cannot be negative"] });

        // Rows per day: reserve what this answer may return, refund what it did not use. Exact across nodes.
        var wanted = limit ?? (outputFormat == OutputFormat.Json ? DefaultJsonPage : long.MaxValue / 4);
        var reserved = wanted;
        if (grant.QuotaPerDay is { } perDay)
        {
            var remaining = await quota.RemainingAsync(grant.Id, perDay, ct) ?? 0;
            reserved = Math.Min(wanted, remaining);
            if (reserved == 0 || !await quota.TryConsumeAsync(grant.Id, reserved, perDay, ct))
                return QuotaExceeded(http, perDay);
        }

        DataQuery query;
        try
        {
            query = DataQuery.BuildRemembered(resource, table, grant, new DataRequest(select, where, order, limit, offset, cursor, since), reserved);
        }
        catch (QueryException ex)
        {
            if (grant.QuotaPerDay is not null) await quota.TryConsumeAsync(grant.Id, -reserved, null, ct);
            return QueryProblem(ex);
        }

        var key = masking.PseudonymKeyFor(caller.DepartmentId?.ToString() ?? "public");
        http.Response.ContentType = TabularOutput.ContentType(outputFormat);
        if (outputFormat != OutputFormat.Json)
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"{resource.Id}.{TabularOutput.Extension(outputFormat)}\"";
        var counting = new CountingStream(http.Response.Body);
        long rows = 0;
        var outcome = AuditOutcome.Success;
        try
        {
            Func<long, IReadOnlyDictionary<string, object?>> envelope = count => new Dictionary<string, object?>
            {
                ["count"] = count,
                ["nextCursor"] = query.ChangeFeed || count < query.Limit || query.Last < 0 ? null : DataQuery.EncodeCursor(query.Last),
                ["nextSince"] = query.ChangeFeed ? Math.Max(query.Last, since ?? 0) : null,
            };
            if (outputFormat == OutputFormat.Json)
            {
                // Pages (the busiest answer) are written from the database reader without a row array per row.
                await using var jsonRows = await query.OpenJsonRowsAsync(db, key, ct);
                rows = await TabularOutput.WriteJsonAsync(counting, query.Columns, jsonRows, envelope, ct);
            }
            else
            {
                rows = await TabularOutput.WriteAsync(counting, outputFormat, query.Columns, query.RowsAsync(db, key, ct), ct, bom == true, envelope);
            }
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            outcome = AuditOutcome.Failure;
            throw;
        }
        finally
        {
            if (grant.QuotaPerDay is not null && reserved - rows > 0) await quota.TryConsumeAsync(grant.Id, -(reserved - rows), null, CancellationToken.None);
            var purpose = await PurposeAsync(grant, db, http.RequestServices.GetRequiredService<IMemoryCache>());
            await audit.WriteAsync(AuditEntry.For(http, "data.read", "resource", resource.Id, new
            {
                grantId = grant.Id, fields = query.Columns.Select(c => c.Name), where, order, since, format = outputFormat.ToString().ToLowerInvariant(),
                rowFilter = grant.RowFilter, purpose, rows, bytes = counting.Written,
            }, outcome), CancellationToken.None);
            exchanges.Add(grant.ProviderDepartmentId, grant.ConsumerDepartmentId ?? Guid.Empty, resource.Id, rows, counting.Written);
        }
        return Results.Empty;
    }

    /// <summary>A preview page: the first rows exactly as the grant's application receives them.</summary>
    internal sealed record Preview(IReadOnlyList<OutputColumn> Columns, List<object?[]> Rows, IReadOnlyList<bool> Masked);

    /// <summary>
    /// The preview page's read (a person of the consuming department looking at what its application receives): the same
    /// <see cref="DataQuery"/>, masking key (the consuming department's), row quota, exchange counter and audit record as
    /// <see cref="Read"/>, audited as <c>data.preview</c>. The caller has checked that the person acts for the consumer.
    /// </summary>
    internal static async Task<(Preview? Preview, IResult? Problem)> PreviewAsync(Grant grant, string? where, string? order, int rows, HttpContext http,
        LianqiaoDb db, ICatalogReader catalog, QuotaCounter quota, MaskingService masking, IAuditLog audit, ExchangeCounterBuffer exchanges, TimeProvider time,
        CancellationToken ct)
    {
        if (!grant.IsActive(time.GetUtcNow()) || grant.Kind != GrantKind.Table)
            return (null, Problems.Of(403, "no-grant", "没有该资源的有效授权", "The grant is not an active table grant (expired, revoked or not for table data)."));
        if (grant.VerificationOnly)
            return (null, Problems.Of(403, "verification-only", "该授权仅可核验，不可获取数据", "This grant allows verification only, not reading rows."));
        var resource = await catalog.FindAsync(grant.ResourceId, ct);
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == grant.ResourceId, ct);
        if (resource is null || table is null) return (null, Problems.Of(404, "no-data", "该资源尚未汇聚数据", "No data has been loaded for this resource yet."));

        long reserved = rows;
        if (grant.QuotaPerDay is { } perDay)
        {
            reserved = Math.Min(rows, await quota.RemainingAsync(grant.Id, perDay, ct) ?? 0);
            if (reserved == 0 || !await quota.TryConsumeAsync(grant.Id, reserved, perDay, ct))
                return (null, Problems.Of(429, "quota-exceeded", "今日数据配额已用完", $"The grant's quota of {perDay} rows per day is used up; it resets at midnight China time."));
        }
        DataQuery query;
        try
        {
            query = DataQuery.Build(resource, table, grant, new DataRequest(null, where, order, reserved, null, null, null), reserved);
        }
        catch (QueryException ex)
        {
            if (grant.QuotaPerDay is not null) await quota.TryConsumeAsync(grant.Id, -reserved, null, ct);
            return (null, QueryProblem(ex));
        }
        var list = new List<object?[]>();
        var key = masking.PseudonymKeyFor(grant.ConsumerDepartmentId?.ToString() ?? "public");
        await foreach (var row in query.RowsAsync(db, key, ct)) list.Add(row);
        if (grant.QuotaPerDay is not null && reserved - list.Count > 0) await quota.TryConsumeAsync(grant.Id, -(reserved - list.Count), null, CancellationToken.None);
        await audit.WriteAsync(AuditEntry.For(http, "data.preview", "resource", resource.Id, new
        {
            grantId = grant.Id, fields = query.Columns.Select(c => c.Name), where, order, rowFilter = grant.RowFilter, rows = list.Count,
        }), CancellationToken.None);
        exchanges.Add(grant.ProviderDepartmentId, grant.ConsumerDepartmentId ?? Guid.Empty, resource.Id, list.Count, 0);
        return (new Preview(query.Columns, list, query.Masks.Select(m => m.Masked).ToList()), null);
    }

    /// <summary>
    /// The purpose stated in the application behind a grant, for the audit record. An application's purpose never changes
    /// once submitted, so it is remembered per node (a sliding hour): one query less on every read.
    /// </summary>
    static async Task<string?> PurposeAsync(Grant grant, LianqiaoDb db, IMemoryCache cache)
    {
        if (grant.ShareRequestId is not { } id) return null;
        var key = "share-request-purpose:" + id;
        if (cache.TryGetValue(key, out string? purpose)) return purpose;
        purpose = await db.Set<ShareRequest>().Where(r => r.Id == id).Select(r => r.Purpose).FirstOrDefaultAsync(CancellationToken.None);
        cache.Set(key, purpose, new MemoryCacheEntryOptions { SlidingExpiration = TimeSpan.FromHours(1) });
        return purpose;
    }

    internal sealed record Access(ResourceDto? Resource, DatasetTable? Table, Grant? Grant, IResult? Problem);

    /// <summary>Who may read what: an application or developer, with an active table grant on a published resource that has data.</summary>
    /// <remarks>
    /// The catalog entry (items, masking rules) and the dataset table row (physical table name and columns) are remembered
    /// per node for <see cref="MetadataCacheFor"/>, as API keys are: a catalog or schema change reaches reads within a
    /// second, and a busy resource costs those queries once a second instead of on every call. Loads (replace included)
    /// write the same physical table, and a new table version keeps the old one, so a remembered row never names a
    /// table that is gone. The grant is remembered for at most a second too (<see cref="GrantService.FindActiveRecentAsync"/>).
    /// </remarks>
    internal static async Task<Access> ResolveAsync(Caller caller, string resourceId, LianqiaoDb db, ICatalogReader catalog, GrantService grants,
        IMemoryCache cache, CancellationToken ct)
    {
        if (caller.Kind is not (PrincipalKind.Application or PrincipalKind.Developer))
            return new(null, null, null, Problems.Of(403, "grant-required", "数据须由获得授权的应用系统调用",
                "Data is read by an application (or a registered developer) under its grant; personal keys hold no grants."));
        var cacheKey = "data-api-resource:" + resourceId;
        if (!cache.TryGetValue(cacheKey, out ResourceDto? resource))
        {
            resource = await catalog.FindAsync(resourceId, ct);
            if (resource is not null) cache.Set(cacheKey, resource, MetadataCacheFor);
        }
        if (resource is null) return new(null, null, null, Problems.NotFound("资源", "resource"));
        // Remembered on this node for at most a second, like the gateway's: a revoke is immediate here, within 1 s elsewhere.
        var grant = await grants.FindActiveRecentAsync(caller, resourceId, GrantKind.Table, ct);
        if (grant is null)
            return new(resource, null, null, Problems.Of(403, "no-grant", "没有该资源的有效授权", "The caller holds no active grant on this resource (none, expired or revoked)."));
        var tableKey = "data-api-table:" + resourceId;
        if (!cache.TryGetValue(tableKey, out DatasetTable? table))
        {
            table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == resourceId, ct);
            if (table is not null) cache.Set(tableKey, table, MetadataCacheFor);
        }
        if (table is null) return new(resource, null, grant, Problems.Of(404, "no-data", "该资源尚未汇聚数据", "No data has been loaded for this resource yet."));
        return new(resource, table, grant, null);
    }

    /// <summary>Every query error at once, in the house validation shape: errors.query = ["zh / en (code at position)", …].</summary>
    static IResult QueryProblem(QueryException ex) => Problems.Of(400, "bad-query", "查询参数有误", "The $select, $where, $order or cursor parameter is invalid; see errors.",
        new Dictionary<string, object?>
        {
            ["errors"] = new Dictionary<string, string[]> { ["query"] = ex.Errors.Select(e => $"{e.MessageZh} / {e.MessageEn} ({e.Code} at {e.Position})").ToArray() },
        });

    static IResult QuotaExceeded(HttpContext http, long perDay)
    {
        http.Response.Headers["X-RateLimit-Limit"] = perDay.ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers["X-RateLimit-Remaining"] = "0";
        return Problems.Of(429, "quota-exceeded", "今日数据配额已用完", $"The grant's quota of {perDay} rows per day is used up; it resets at midnight China time.");
    }

    /// <summary>
    /// 核验: match / no match for given values, never rows. An oracle, so: a grant that names every field asked about,
    /// a strict per-application rate limit, and every call audited (which fields, the answer; not the values).
    /// </summary>
    static async Task<IResult> Verify(string resourceId, VerifyInput input, HttpContext http, LianqiaoDb db, ICatalogReader catalog, GrantService grants,
        IAuditLog audit, ExchangeCounterBuffer exchanges, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var access = await ResolveAsync(caller, resourceId, db, catalog, grants, http.RequestServices.GetRequiredService<IMemoryCache>(), ct);
        if (access.Problem is not null) return access.Problem;
        var (resource, table, grant) = (access.Resource!, access.Table!, access.Grant!);
        var values = input.Values ?? [];
        if (values.Count == 0 || values.Count > 10 || values.Any(v => string.IsNullOrEmpty(v.Value)))
            return Problems.Validation(new Dictionary<string, string[]> { ["values"] = ["请提供 1 至 10 个待核验的字段值 / give 1 to 10 non-empty field values to verify"] });
        var notGranted = values.Keys.Where(k => !grant.Fields.Contains(k)).ToList();
        if (notGranted.Count > 0)
            return Problems.Of(403, "field-not-granted", "核验字段超出授权范围", "The grant does not cover every field asked about.");

        var where = string.Join(" AND ", values.Keys.Select((k, i) => $"{Domain.Query.SqlRenderer.Quote(k)} = @v{i}"));
        var physical = Datasets.Storage.DatasetStore.ColumnsOf(table).ToDictionary(c => c.Column, c => c.Type, StringComparer.Ordinal);
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT 1 FROM {Domain.Query.SqlRenderer.Quote(table.TableName)} WHERE NOT \"_deleted\" AND {where} LIMIT 1";
        var i = 0;
        foreach (var (column, value) in values)
        {
            if (!physical.TryGetValue(column, out var storage) || !Quality.ValueParser.TryParse(TypeCode(storage), value!, out var typed))
                return Problems.Validation(new Dictionary<string, string[]> { [column] = ["值与字段类型不符 / the value does not fit the field's type"] });
            Datasets.Storage.DatasetStore.AddParameter(command, "v" + i++, typed);
        }
        var match = await command.ExecuteScalarAsync(ct) is not null;
        await audit.WriteAsync(AuditEntry.For(http, "data.verify", "resource", resource.Id, new { grantId = grant.Id, fields = values.Keys, match }), ct);
        exchanges.Add(grant.ProviderDepartmentId, grant.ConsumerDepartmentId ?? Guid.Empty, resource.Id, 0, 0);
        return TypedResults.Ok(new VerifyResult(match));
    }

    static char TypeCode(string storageClass) => storageClass switch
    {
        "numeric" => 'N', "double" => 'F', "bigint" => 'I', "date" => 'D', "timestamp" => 'T', "boolean" => 'L', _ => 'C',
    };
}

/// <summary>Counts the bytes that reach the client, for the audit record and the exchange counters.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    public long Written { get; private set; }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Written += count;
    }
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Written += buffer.Length;
    }
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
