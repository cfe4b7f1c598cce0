using Lianqiao.Audit;
using Lianqiao.Datasets.Loading;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Lianqiao.Datasets;

/// <summary>The load wizard's form post: runs the load like the API, then shows its report page.</summary>
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
    }

    static async Task<IResult> UploadAsync(string resourceId, HttpContext http, IAntiforgery antiforgery, ITableSchemaSource source,
        DatasetLoader loader, IAuditLog audit, CancellationToken ct)
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

        var path = Path.Combine(Path.GetTempPath(), "lianqiao-upload-" + Guid.NewGuid().ToString("N"));
        try
        {
            byte[] head;
            await using (var target = File.Create(path))
            await using (var input = file.OpenReadStream())
            {
                await input.CopyToAsync(target, ct);
            }
            await using (var read = File.OpenRead(path))
            {
                head = new byte[(int)Math.Min(read.Length, 512)];
                await read.ReadExactlyAsync(head, ct);
            }
            var name = Path.GetFileName(file.FileName);
            var format = LoadFormats.Detect(null, file.ContentType, name, head);
            var load = await loader.RunAsync(new LoadRequest(resourceId, mode, format, path, name, file.Length, caller.Id, caller.Name), null, ct);
            await audit.WriteAsync(AuditEntry.For(http, "dataset.load", "resource", resourceId,
                new { load.Id, mode, load.RowsRead, load.RowsAccepted, load.RowsQuarantined, via = "page" }), CancellationToken.None);
            return Results.Redirect($"{back}/loads/{load.Id}");
        }
        catch (LoadRefusedException refused)
        {
            await audit.WriteAsync(AuditEntry.For(http, "dataset.load", "resource", resourceId, new { refused.LoadId, refused.Code, via = "page" }, AuditOutcome.Failure), CancellationToken.None);
            var detail = refused.Errors is null ? "" : " " + string.Join("; ", refused.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
            return Results.Redirect(back + "?error=" + Uri.EscapeDataString($"{refused.TitleZh} / {refused.Message}{detail}")
                + (refused.LoadId is { } id ? "&loadId=" + id : ""));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
