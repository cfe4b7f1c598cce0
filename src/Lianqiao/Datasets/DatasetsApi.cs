using System.Globalization;
using System.Text;
using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Lianqiao.Datasets.Storage;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Quality;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Lianqiao.Datasets;

/// <summary>
/// /api/v1/datasets: schemas (until the catalog feeds them), loads, quarantine, quality and rows.
/// Members may call; each handler then decides by the resource's department: stewards of it (and admins)
/// write and see raw rejected rows, other members of it read masked, other departments get 403.
/// </summary>
internal static class DatasetsApi
{
    /// <summary>Uploads are spooled to disk, so the limit is about disk, not memory.</summary>
    public const long MaxUploadBytes = 20L * 1024 * 1024 * 1024;

    public static void MapDatasetsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/datasets").WithTags("Datasets").RequireAuthorization(Policies.Member);
        api.MapGet("", ListDatasets);
        api.MapGet("/overdue", Overdue);
        api.MapGet("/{resourceId}/schema", GetSchema);
        api.MapPut("/{resourceId}/schema", PutSchema);
        api.MapPost("/{resourceId}/loads", PostLoad).WithMetadata(new RequestSizeLimitAttribute(MaxUploadBytes)).DisableAntiforgery();
        api.MapGet("/{resourceId}/loads", ListLoads);
        api.MapGet("/{resourceId}/loads/{loadId:guid}", GetLoad);
        api.MapGet("/{resourceId}/quarantine", ListQuarantine);
        api.MapGet("/{resourceId}/quarantine/export", ExportQuarantine);
        api.MapGet("/{resourceId}/quality", GetQuality);
        api.MapGet("/{resourceId}/rows", GetRows);
    }

    internal static bool CanRead(Caller c, Guid departmentId) => c.IsAdmin || c.DepartmentId == departmentId;
    internal static bool CanWrite(Caller c, Guid departmentId) => c.ActsFor(departmentId, Roles.Steward);

    static ProblemHttpResult NoResource() => Problems.NotFound("数据资源", "dataset resource");

    static async Task<Ok<List<DatasetSummaryDto>>> ListDatasets(HttpContext http, LianqiaoDb db, ITableSchemaSource source, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var visible = await VisibleAsync(caller, db, source, ct);
        return TypedResults.Ok(visible.Select(v => new DatasetSummaryDto(v.Schema.ResourceId, v.Schema.Name, v.Schema.DepartmentId, v.Schema.UpdateCycle,
            v.Table?.TableName, v.Table?.LiveRows ?? 0, v.Table?.LastSuccessAt, v.Table?.OverdueDays ?? 0, v.Table?.RunningLoadId is not null)).ToList());
    }

    /// <summary>Registered schemas and resources that have a table (catalog-fed ones once loaded), as the caller may see them.</summary>
    internal static async Task<List<(TableSchema Schema, DatasetTable? Table)>> VisibleAsync(Caller caller, LianqiaoDb db, ITableSchemaSource source, CancellationToken ct)
    {
        var registered = await db.Set<DatasetSchemaRecord>().AsNoTracking().Select(s => s.ResourceId).ToListAsync(ct);
        var tables = await db.Set<DatasetTable>().AsNoTracking().ToDictionaryAsync(t => t.ResourceId, ct);
        var result = new List<(TableSchema, DatasetTable?)>();
        foreach (var id in registered.Union(tables.Keys).Order(StringComparer.Ordinal))
        {
            if (await source.FindAsync(id, ct) is { } schema && CanRead(caller, schema.DepartmentId)) result.Add((schema, tables.GetValueOrDefault(id)));
        }
        return result;
    }

    static async Task<Ok<List<OverdueDto>>> Overdue(TimelinessService timeliness, CancellationToken ct) =>
        TypedResults.Ok(await timeliness.OverdueAsync(ct));

    static async Task<Results<Ok<SchemaView>, ProblemHttpResult>> GetSchema(string resourceId, HttpContext http, ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        if (!CanRead(http.User.Caller(), schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may read this resource.");
        var record = await db.Set<DatasetSchemaRecord>().AsNoTracking().SingleOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        var table = await db.Set<DatasetTable>().AsNoTracking().SingleOrDefaultAsync(t => t.ResourceId == resourceId, ct);
        return TypedResults.Ok(DatasetMapping.View(schema, record, table, null));
    }

    static async Task<Results<Ok<SchemaView>, ProblemHttpResult>> PutSchema(string resourceId, SchemaInput input, HttpContext http,
        LianqiaoDb db, SchemaRegistry registry, IAuditLog audit, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var record = await db.Set<DatasetSchemaRecord>().SingleOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        if (record is not null && !CanWrite(caller, record.DepartmentId)) return Problems.Forbidden("Only the owning department's stewards may change this schema.");
        var departmentId = input.DepartmentId ?? record?.DepartmentId ?? caller.DepartmentId ?? Guid.Empty;
        if (!CanWrite(caller, departmentId) || (record is not null && departmentId != record.DepartmentId && !caller.IsAdmin))
            return Problems.Forbidden("Stewards register schemas for their own department only.");

        try
        {
            var (view, errors) = await registry.SaveAsync(resourceId, input, departmentId, record, ct);
            if (view is null) return Problems.Validation(errors!);
            await audit.WriteAsync(AuditEntry.For(http, "dataset.schema", "resource", resourceId, new { view.Version, view.Change }), ct);
            return TypedResults.Ok(view);
        }
        catch (DatasetBusyException)
        {
            return Problems.Conflict("load-in-progress", "该资源正在导入，不能变更表结构", "A load is running; change the schema when it has finished.");
        }
    }
    static async Task<Results<Ok<LoadDto>, ProblemHttpResult>> PostLoad(string resourceId, string? mode, string? format, HttpContext http,
        ITableSchemaSource source, DatasetLoader loader, IAuditLog audit, IServiceScopeFactory scopes, TimeProvider time, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        var caller = http.User.Caller();
        if (!CanWrite(caller, schema.DepartmentId)) return Problems.Forbidden("Only the owning department's stewards may load data.");
        mode = (mode ?? LoadModes.Append).ToLowerInvariant();
        if (!LoadModes.All.Contains(mode))
            return Problems.Validation(new Dictionary<string, string[]> { ["mode"] = ["须为 append、upsert、replace 或 delete / append, upsert, replace or delete"] });
        if (format is not null && !LoadFormats.All.Contains(format.ToLowerInvariant()) && format is not ("ndjson" or "jsonl"))
            return Problems.Validation(new Dictionary<string, string[]> { ["format"] = ["须为 csv、xlsx 或 json / csv, xlsx or json"] });

        var upload = await Upload.SpoolAsync(http.Request, MaxUploadBytes, ct);
        try
        {
            var detected = LoadFormats.Detect(format, upload.ContentType, upload.FileName, upload.Head);
            // Known up front so GET …/loads/{id} can show this load's progress while it runs.
            var loadId = Guid.CreateVersion7();
            var load = await loader.RunAsync(new LoadRequest(resourceId, mode, detected, upload.Path, upload.FileName, upload.Bytes, caller.Id, caller.Name, LoadId: loadId),
                LoadProgressWriter.ForLoad(scopes, time, loadId), ct);
            await audit.WriteAsync(AuditEntry.For(http, "dataset.load", "resource", resourceId,
                new { load.Id, mode, load.RowsRead, load.RowsAccepted, load.RowsQuarantined, load.RowsDeleted }), CancellationToken.None);
            return TypedResults.Ok(load.AsDto());
        }
        catch (LoadRefusedException refused)
        {
            await audit.WriteAsync(AuditEntry.For(http, "dataset.load", "resource", resourceId, new { refused.LoadId, refused.Code }, AuditOutcome.Failure), CancellationToken.None);
            var ext = new Dictionary<string, object?>();
            if (refused.Errors is not null) ext["errors"] = refused.Errors;
            if (refused.LoadId is { } id) ext["loadId"] = id;
            return Problems.Of(refused.Status, refused.Code, refused.TitleZh, refused.Message, ext);
        }
        finally
        {
            File.Delete(upload.Path);
        }
    }

    static async Task<Results<Ok<List<LoadDto>>, ProblemHttpResult>> ListLoads(string resourceId, int? take, HttpContext http, ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        if (!CanRead(http.User.Caller(), schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may read its loads.");
        var loads = await db.Set<DatasetLoad>().AsNoTracking().Where(l => l.ResourceId == resourceId)
            .OrderByDescending(l => l.StartedAt).Take(Math.Clamp(take ?? 50, 1, 500)).ToListAsync(ct);
        return TypedResults.Ok(loads.Select(l => l.AsDto()).ToList());
    }

    static async Task<Results<Ok<LoadDto>, ProblemHttpResult>> GetLoad(string resourceId, Guid loadId, HttpContext http, ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        if (!CanRead(http.User.Caller(), schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may read its loads.");
        var load = await db.Set<DatasetLoad>().AsNoTracking().SingleOrDefaultAsync(l => l.Id == loadId && l.ResourceId == resourceId, ct);
        return load is null ? Problems.NotFound("导入批次", "load") : TypedResults.Ok(load.AsDto());
    }

    static IQueryable<QuarantineRow> QuarantineQuery(LianqiaoDb db, string resourceId, Guid? loadId, string? severity) =>
        db.Set<QuarantineRow>().AsNoTracking().Where(q => q.ResourceId == resourceId
            && (loadId == null || q.LoadId == loadId) && (severity == null || q.Severity == severity));

    static async Task<Results<Ok<QuarantinePage>, ProblemHttpResult>> ListQuarantine(string resourceId, Guid? loadId, string? severity, int? page, int? pageSize,
        HttpContext http, ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        var caller = http.User.Caller();
        if (!CanRead(caller, schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may read its quarantine.");
        var masker = CanWrite(caller, schema.DepartmentId) ? null : new RawMasker(schema);
        var size = Math.Clamp(pageSize ?? 50, 1, 500);
        var number = Math.Max(1, page ?? 1);
        var query = QuarantineQuery(db, resourceId, loadId, severity);
        var total = await query.LongCountAsync(ct);
        var rows = await query.OrderByDescending(q => q.LoadId).ThenBy(q => q.Line).Skip((number - 1) * size).Take(size).ToListAsync(ct);
        return TypedResults.Ok(new QuarantinePage(rows.Select(r => r.AsDto(masker)).ToList(), total, number, size));
    }

    /// <summary>CSV in UTF-8 with BOM (Excel opens it as UTF-8); every download is audited.</summary>
    static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExportQuarantine(string resourceId, Guid? loadId, string? severity,
        HttpContext http, ITableSchemaSource source, LianqiaoDb db, IAuditLog audit, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        var caller = http.User.Caller();
        if (!CanRead(caller, schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may export its quarantine.");
        var masker = CanWrite(caller, schema.DepartmentId) ? null : new RawMasker(schema);
        var query = QuarantineQuery(db, resourceId, loadId, severity);
        var count = await query.LongCountAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "dataset.quarantine.export", "resource", resourceId, new { loadId, rows = count, masked = masker is not null }), ct);

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"quarantine-{resourceId}.csv\"";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(true), 1 << 16);
        var columns = schema.Columns.Select(c => c.Column).ToList();
        await writer.WriteLineAsync(string.Join(",", new[] { "load_id", "line", "severity", "rule", "column", "reason" }.Concat(columns).Select(CsvCell)));
        await foreach (var row in query.OrderBy(q => q.LoadId).ThenBy(q => q.Line).AsAsyncEnumerable().WithCancellation(ct))
        {
            var dto = row.AsDto(masker);
            var raw = new Dictionary<string, string?>(dto.Raw, StringComparer.OrdinalIgnoreCase);
            string?[] values = [row.LoadId.ToString(), row.Line.ToString(CultureInfo.InvariantCulture), row.Severity, row.Rule, row.Column, row.Reason];
            var cells = values.Concat(schema.Columns.Select(c => raw.GetValueOrDefault(c.Column) ?? raw.GetValueOrDefault(c.Name)));
            await writer.WriteLineAsync(string.Join(",", cells.Select(CsvCell)));
        }
        return TypedResults.Empty;
    }

    /// <summary>Quotes a cell and defuses spreadsheet formulas: a leading = + - @ (or tab, CR) gets a ' in front.</summary>
    internal static string CsvCell(string? value)
    {
        if (value is null) return "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n'") >= 0 || value.Length == 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    static async Task<Results<Ok<QualityView>, ProblemHttpResult>> GetQuality(string resourceId, HttpContext http, ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        if (!CanRead(http.User.Caller(), schema.DepartmentId)) return Problems.Forbidden("Only members of the owning department may read its quality report.");
        var loads = await db.Set<DatasetLoad>().AsNoTracking().Where(l => l.ResourceId == resourceId && l.Status == LoadStatus.Succeeded)
            .OrderByDescending(l => l.StartedAt).Take(30).ToListAsync(ct);
        var trend = loads.Select(l => l.AsDto()).Reverse()
            .Select(l => new QualityTrendPoint(l.Id, l.FinishedAt, l.RowsRead, l.RowsQuarantined, l.Report?.Dimensions ?? [])).ToList();
        return TypedResults.Ok(new QualityView(resourceId, schema.Name, loads.FirstOrDefault()?.AsDto().Report, trend));
    }

    /// <summary>Stored rows in change order, tombstones included: what incremental readers page through with since=.</summary>
    static async Task<Results<Ok<RowsPage>, ProblemHttpResult>> GetRows(string resourceId, long? since, int? limit, HttpContext http,
        ITableSchemaSource source, LianqiaoDb db, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        if (schema is null) return NoResource();
        if (!CanWrite(http.User.Caller(), schema.DepartmentId)) return Problems.Forbidden("Only the owning department's stewards read stored rows here; consumers go through sharing.");
        var table = await db.Set<DatasetTable>().AsNoTracking().SingleOrDefaultAsync(t => t.ResourceId == resourceId, ct);
        if (table is null) return TypedResults.Ok(new RowsPage([], null));
        var rows = await DatasetReader.ReadChangesAsync(db, table, since ?? 0, Math.Clamp(limit ?? 100, 1, 10_000), ct);
        return TypedResults.Ok(new RowsPage(rows, rows.Count == 0 ? null : (long)rows[^1]["_seq"]!));
    }
}

/// <summary>An upload on disk: the raw body, or the first file of a multipart form.</summary>
internal sealed record Upload(string Path, long Bytes, string? FileName, string? ContentType, byte[] Head)
{
    public static async Task<Upload> SpoolAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lianqiao-upload-" + Guid.NewGuid().ToString("N"));
        string? fileName = null;
        var contentType = request.ContentType;
        long bytes;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                if (MediaTypeHeaderValue.TryParse(request.ContentType, out var media) && media.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
                {
                    var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value ?? "";
                    var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = limit };
                    MultipartSection? section;
                    contentType = null;
                    while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
                    {
                        if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.IsFileDisposition()) continue;
                        fileName = System.IO.Path.GetFileName((cd.FileNameStar.HasValue ? cd.FileNameStar.Value : cd.FileName.Value) ?? "");
                        contentType = section.ContentType;
                        await section.Body.CopyToAsync(file, ct);
                        break;
                    }
                }
                else
                {
                    await request.Body.CopyToAsync(file, ct);
                }
                bytes = file.Length;
            }
        }
        catch
        {
            // A broken or aborted upload leaves no temp file behind.
            File.Delete(path);
            throw;
        }
        var head = new byte[(int)Math.Min(bytes, 512)];
        await using (var read = File.OpenRead(path)) await read.ReadExactlyAsync(head, ct);
        return new Upload(path, bytes, string.IsNullOrEmpty(fileName) ? null : fileName, contentType, head);
    }
}
