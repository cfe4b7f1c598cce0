using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Lianqiao.Datasets.Files;

/// <summary>
/// /api/v1/datasets/{resourceId}/files: the versions of a file resource. The owning department's stewards
/// upload; its members and admins read; any other caller needs an active file grant (download in its scope
/// to fetch the bytes), checked from the database on every call like table grants. Downloads are audited.
/// </summary>
internal static class FilesApi
{
    public static void MapFilesApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/datasets/{resourceId}/files").WithTags("Datasets").RequireAuthorization(Policies.Member);
        api.MapPost("", Upload).WithMetadata(new RequestSizeLimitAttribute(FileResources.MaxFileBytes)).DisableAntiforgery()
            .WithSummary("上传文件资源的新版本 / Upload a new version of a file resource (raw body or multipart)");
        api.MapGet("", List).WithSummary("文件版本列表 / List a file resource's versions");
        api.MapGet("/{version:int}", Download).WithSummary("下载某一版本 / Download one version");
    }

    static ProblemHttpResult NoResource() => Problems.NotFound("文件资源", "file resource");

    /// <summary>The raw body (name in ?fileName=, type in Content-Type), or the first file of a multipart form.</summary>
    static async Task<Results<Created<FileVersionDto>, ProblemHttpResult>> Upload(string resourceId, string? fileName, HttpContext http,
        FileResources files, IAuditLog audit, CancellationToken ct)
    {
        var resource = await files.FindAsync(resourceId, ct);
        if (resource is null) return NoResource();
        var caller = http.User.Caller();
        if (!DatasetsApi.CanWrite(caller, resource.DepartmentId)) return Problems.Forbidden("Only the owning department's stewards may upload files.");

        var body = http.Request.Body;
        var mediaType = http.Request.ContentType;
        if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var media) && media.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(media.Boundary).Value ?? "", http.Request.Body) { BodyLengthLimit = FileResources.MaxFileBytes };
            MultipartSection? section;
            body = Stream.Null;
            while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.IsFileDisposition()) continue;
                fileName ??= (cd.FileNameStar.HasValue ? cd.FileNameStar.Value : cd.FileName.Value);
                mediaType = section.ContentType;
                body = section.Body;
                break;
            }
            if (body == Stream.Null)
                return Problems.Validation(new Dictionary<string, string[]> { ["file"] = ["表单中没有文件 / the form holds no file"] });
        }

        var errors = new Dictionary<string, string[]>();
        var name = CleanFileName(fileName);
        if (name is null) errors["fileName"] = ["请提供文件名（?fileName= 或表单文件名），不超过 260 个字符 / give a file name (?fileName= or the form's file name), at most 260 characters"];
        var type = CleanMediaType(mediaType);
        if (type is null) errors["contentType"] = ["媒体类型无效 / the media type is invalid"];
        if (errors.Count > 0) return Problems.Validation(errors);

        try
        {
            var version = await files.AddVersionAsync(resource, body, name!, type!, caller.Id, caller.Name, ct);
            await audit.WriteAsync(AuditEntry.For(http, "dataset.file.upload", "resource", resourceId,
                new { version.Version, version.FileName, version.MediaType, version.Bytes, version.Sha256 }), CancellationToken.None);
            return TypedResults.Created($"/api/v1/datasets/{Uri.EscapeDataString(resourceId)}/files/{version.Version}", version);
        }
        catch (EmptyFileException)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["file"] = ["文件为空 / the file is empty"] });
        }
        catch (FileTooLargeException tooLarge)
        {
            return Problems.Of(413, "file-too-large", "文件超过大小上限", $"The file is larger than the limit of {tooLarge.Limit} bytes.");
        }
    }

    static async Task<Results<Ok<List<FileVersionDto>>, ProblemHttpResult>> List(string resourceId, HttpContext http, FileResources files,
        GrantService grants, CancellationToken ct)
    {
        var resource = await files.FindAsync(resourceId, ct);
        if (resource is null) return NoResource();
        var (_, problem) = await AccessAsync(http.User.Caller(), resource, grants, download: false, ct);
        if (problem is not null) return problem;
        return TypedResults.Ok(await files.VersionsAsync(resourceId, ct));
    }

    static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(string resourceId, int version, HttpContext http, FileResources files,
        GrantService grants, QuotaCounter quota, ExchangeCounterBuffer exchanges, IAuditLog audit, CancellationToken ct)
    {
        var resource = await files.FindAsync(resourceId, ct);
        if (resource is null) return NoResource();
        var (grant, problem) = await AccessAsync(http.User.Caller(), resource, grants, download: true, ct);
        if (problem is not null) return problem;
        var found = await files.VersionAsync(resourceId, version, ct);
        if (found is null) return Problems.NotFound("文件版本", "file version");
        // A file grant's quota counts downloads per day.
        if (grant?.QuotaPerDay is { } perDay && !await quota.TryConsumeAsync(grant.Id, 1, perDay, ct))
            return Problems.Of(429, "quota-exceeded", "今日下载次数已用完", $"The grant's quota of {perDay} downloads per day is used up; it resets at midnight China time.");

        var stream = files.Open(found);
        await audit.WriteAsync(AuditEntry.For(http, "dataset.file.download", "resource", resourceId,
            new { found.Version, found.FileName, found.Bytes, found.Sha256, grantId = grant?.Id }), ct);
        if (grant is not null)
            exchanges.Add(grant.ProviderDepartmentId, grant.ConsumerDepartmentId ?? Guid.Empty, resourceId, 0, found.Bytes);
        http.Response.Headers["Repr-Digest"] = $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(found.Sha256))}:";
        return TypedResults.Stream(stream, found.MediaType, found.FileName, found.UploadedAt, new EntityTagHeaderValue($"\"{found.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>Members of the owning department and admins; anyone else through an active file grant (with download to fetch bytes).</summary>
    static async Task<(Grant? Grant, ProblemHttpResult? Problem)> AccessAsync(Caller caller, FileResource resource, GrantService grants, bool download, CancellationToken ct)
    {
        if (DatasetsApi.CanRead(caller, resource.DepartmentId)) return (null, null);
        var grant = await grants.FindActiveAsync(caller, resource.Id, GrantKind.File, ct);
        if (grant is null)
            return (null, Problems.Of(403, "no-grant", "没有该文件资源的有效授权", "The caller holds no active file grant on this resource (none, expired or revoked)."));
        if (download && !grant.Download)
            return (null, Problems.Of(403, "download-not-granted", "该授权不含下载", "The file grant does not include download."));
        return (grant, null);
    }

    internal static string? CleanFileName(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var name = Path.GetFileName(raw.Replace('\\', '/')).Trim();
        return name.Length is 0 or > 260 || name.Any(char.IsControl) || name is "." or ".." ? null : name;
    }

    static string? CleanMediaType(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return "application/octet-stream";
        return MediaTypeHeaderValue.TryParse(raw, out var parsed) && parsed.MediaType.Value is { } t && t.Contains('/') && raw.Length <= 200
            ? parsed.ToString() : null;
    }
}

/// <summary>The file page's upload form: antiforgery-checked, then streamed into the store like the API.</summary>
internal static class FilePages
{
    public static void MapFilePages(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/datasets/{resourceId}/files/upload", UploadAsync)
            .RequireAuthorization(Policies.Member)
            .WithMetadata(new RequestSizeLimitAttribute(FileResources.MaxFileBytes))
            .WithFormOptions(multipartBodyLengthLimit: FileResources.MaxFileBytes)
            .DisableAntiforgery() // validated below, after the size limits above apply
            .ExcludeFromDescription();
    }

    static async Task<IResult> UploadAsync(string resourceId, HttpContext http, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery,
        FileResources files, IAuditLog audit, CancellationToken ct)
    {
        var resource = await files.FindAsync(resourceId, ct);
        var caller = http.User.Caller();
        if (resource is null) return Results.NotFound();
        if (!DatasetsApi.CanWrite(caller, resource.DepartmentId)) return Results.StatusCode(StatusCodes.Status403Forbidden);
        // Reading the form spools a large file to a temporary file, never to memory.
        if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
        var back = $"/datasets/{Uri.EscapeDataString(resourceId)}/files";
        var form = await http.Request.ReadFormAsync(ct);
        if (form.Files.GetFile("file") is not { Length: > 0 } file || FilesApi.CleanFileName(file.FileName) is not { } name)
            return Results.Redirect(back + "?error=" + Uri.EscapeDataString("请选择非空文件 / choose a non-empty file"));
        await using var content = file.OpenReadStream();
        var mediaType = MediaTypeHeaderValue.TryParse(file.ContentType, out var parsed) ? parsed.ToString() : "application/octet-stream";
        var version = await files.AddVersionAsync(resource, content, name, mediaType, caller.Id, caller.Name, ct);
        await audit.WriteAsync(AuditEntry.For(http, "dataset.file.upload", "resource", resourceId,
            new { version.Version, version.FileName, version.MediaType, version.Bytes, version.Sha256, via = "page" }), CancellationToken.None);
        return Results.Redirect($"{back}?uploaded={version.Version}");
    }
}
