using Lianqiao.Audit;
using Lianqiao.Datasets.Loading;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Lianqiao.Datasets;

/// <summary>
/// The load wizard's form posts: the upload is staged and previewed (/datasets/{id}/uploads/{token}), the steward
/// maps the file's columns, then the run starts in the background and the load page shows its progress.
/// </summary>
internal static class DatasetPages
{
    public static void MapDatasetPages(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/datasets/{resourceId}/upload", UploadAsync)
            .RequireAuthorization(Policies.Member)
            .WithMetadata(new RequestSizeLimitAttribute(DatasetsApi.MaxUploadBytes))
            .WithFormOptions(multipartBodyLengthLimit: DatasetsApi.MaxUploadBytes)
            .DisableAntiforgery() // validated below, after the size limits above apply
            .ExcludeFromDescription();
        routes.MapPost("/datasets/{resourceId}/uploads/{token}/run", RunAsync)
            .RequireAuthorization(Policies.Member)
            .DisableAntiforgery() // validated below, once the caller is known to be a steward
            .ExcludeFromDescription();
    }

    /// <summary>Value of a mapping field that leaves a file column out of the load on purpose.</summary>
    public const string Ignore = "";
    /// <summary>Value of a mapping field nobody chose yet: the run is refused until every column is decided.</summary>
    public const string Undecided = "?";

    static async Task<IResult> UploadAsync(string resourceId, HttpContext http, IAntiforgery antiforgery, ITableSchemaSource source,
        StagedUploads staging, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        var caller = http.User.Caller();
        if (schema is null) return Results.NotFound();
        if (!DatasetsApi.CanWrite(caller, schema.DepartmentId)) return Results.StatusCode(StatusCodes.Status403Forbidden);
        if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
        var form = await http.Request.ReadFormAsync(ct);
        var back = $"/datasets/{Uri.EscapeDataString(resourceId)}";
        if (form.Files.GetFile("file") is not { Length: > 0 } file) return Results.Redirect(back + "?error=" + Uri.EscapeDataString("请选择文件 / choose a file"));
        var mode = form["mode"].ToString() is { Length: > 0 } m && LoadModes.All.Contains(m) ? m : LoadModes.Append;

        var head = new byte[(int)Math.Min(file.Length, 512)];
        await using (var input = file.OpenReadStream()) await input.ReadExactlyAsync(head, ct);
        var name = Path.GetFileName(file.FileName);
        var format = LoadFormats.Detect(null, file.ContentType, name, head);
        await using var content = file.OpenReadStream();
        var staged = await staging.SaveAsync(content, resourceId, caller.Id, name, format, mode, ct);
        return Results.Redirect($"{back}/uploads/{staged.Token}");
    }

    /// <summary>Starts the staged file's load with the steward's column mapping (one "map" field per file column, in file order).</summary>
    static async Task<IResult> RunAsync(string resourceId, string token, HttpContext http, IAntiforgery antiforgery, ITableSchemaSource source,
        StagedUploads staging, BackgroundLoads background, CancellationToken ct)
    {
        var schema = await source.FindAsync(resourceId, ct);
        var caller = http.User.Caller();
        if (schema is null) return Results.NotFound();
        if (!DatasetsApi.CanWrite(caller, schema.DepartmentId)) return Results.StatusCode(StatusCodes.Status403Forbidden);
        if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
        var staged = staging.Find(token, resourceId, caller.Id);
        var back = $"/datasets/{Uri.EscapeDataString(resourceId)}";
        if (staged is null) return Results.Redirect(back + "?error=" + Uri.EscapeDataString("上传的文件已失效，请重新上传 / the upload has expired; upload it again"));
        var form = await http.Request.ReadFormAsync(ct);
        var mode = form["mode"].ToString() is { Length: > 0 } m && LoadModes.All.Contains(m) ? m : staged.Mode;

        var preview = LoadPreview.Read(staged, schema);
        if (preview.Error is not null) return Results.Redirect($"{back}/uploads/{token}");
        var chosen = form["map"].Select(v => v ?? Undecided).ToList();
        var (map, problems) = LoadPreview.Mapping(preview.Header, chosen, schema, deleting: mode == LoadModes.Delete);
        if (problems.Count > 0)
            return Results.Redirect($"{back}/uploads/{token}?error=" + Uri.EscapeDataString(string.Join("；", problems)));

        var loadId = background.Start(
            new LoadRequest(resourceId, mode, staged.Format, staged.Path, staged.FileName, staged.Bytes, caller.Id, caller.Name, map),
            AuditEntry.For(http, "dataset.load", "resource", resourceId),
            () => staging.Delete(token));
        return Results.Redirect($"{back}/loads/{loadId}");
    }
}
