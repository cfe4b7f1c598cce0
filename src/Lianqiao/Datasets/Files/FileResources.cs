using Lianqiao.Catalog;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets.Files;

/// <summary>A published catalog resource whose format category holds files, not rows.</summary>
public sealed record FileResource(string Id, string Name, Guid DepartmentId, string FormatCategory, string OpenType, bool OpenEligible)
{
    /// <summary>无条件开放 (open-type code 1) and eligible to be opened: anyone may download it.</summary>
    public bool IsOpenToAll => OpenType == "1" && OpenEligible;
}

/// <summary>A version ready to stream: its metadata and the stored content.</summary>
public sealed record FileDownload(FileResource Resource, FileVersionDto Version, Func<Stream> Open);

/// <summary>
/// File resources (电子文件, 图形图像, 流媒体): versioned attachments of any size, streamed in and out.
/// Access decisions stay with the callers (the datasets API for stewards and grant holders, the open
/// portal for <see cref="OpenForPublicAsync"/>); this class finds, stores and opens.
/// </summary>
internal sealed class FileResources(LianqiaoDb db, FileStore store, TimeProvider time)
{
    /// <summary>Format-category codes (code table format-category) whose resources hold attachments.</summary>
    public static readonly IReadOnlySet<string> FileCategories = new HashSet<string>(StringComparer.Ordinal) { "1", "4", "5" };

    /// <summary>Uploads are streamed to disk, so the limit is about disk, not memory.</summary>
    public const long MaxFileBytes = 20L * 1024 * 1024 * 1024;

    public async Task<FileResource?> FindAsync(string resourceId, CancellationToken ct)
    {
        var r = await db.Set<CatalogResource>().AsNoTracking()
            .Where(r => r.Slug == resourceId && r.RevisionOf == null && r.Status == ResourceStatus.Published && r.Version > 0)
            .Select(r => new { r.Slug, r.Name, r.DepartmentId, r.FormatCategory, r.OpenType, r.OpenEligible })
            .SingleOrDefaultAsync(ct);
        return r is null || !FileCategories.Contains(r.FormatCategory) ? null
            : new FileResource(r.Slug, r.Name, r.DepartmentId, r.FormatCategory, r.OpenType, r.OpenEligible);
    }

    /// <summary>A department's file resources with their version counts; null (admins) means every file resource that has a version.</summary>
    public async Task<List<(FileResource Resource, int Versions)>> ListAsync(Guid? departmentId, CancellationToken ct)
    {
        var categories = FileCategories.ToList();
        var resources = await db.Set<CatalogResource>().AsNoTracking()
            .Where(r => r.RevisionOf == null && r.Status == ResourceStatus.Published && r.Version > 0 && categories.Contains(r.FormatCategory)
                && (departmentId == null || r.DepartmentId == departmentId))
            .Select(r => new FileResource(r.Slug, r.Name, r.DepartmentId, r.FormatCategory, r.OpenType, r.OpenEligible)).ToListAsync(ct);
        var ids = resources.Select(r => r.Id).ToList();
        var counts = await db.Set<FileVersion>().AsNoTracking().Where(v => ids.Contains(v.ResourceId))
            .GroupBy(v => v.ResourceId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        return resources.Select(r => (r, counts.GetValueOrDefault(r.Id))).Where(x => departmentId is not null || x.Item2 > 0)
            .OrderBy(x => x.r.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<List<FileVersionDto>> VersionsAsync(string resourceId, CancellationToken ct) =>
        (await db.Set<FileVersion>().AsNoTracking().Where(v => v.ResourceId == resourceId).OrderByDescending(v => v.Version).ToListAsync(ct))
            .Select(v => v.AsDto()).ToList();

    /// <summary>One version, or the latest when <paramref name="version"/> is null.</summary>
    public async Task<FileVersionDto?> VersionAsync(string resourceId, int? version, CancellationToken ct)
    {
        var query = db.Set<FileVersion>().AsNoTracking().Where(v => v.ResourceId == resourceId);
        var row = version is { } n
            ? await query.SingleOrDefaultAsync(v => v.Version == n, ct)
            : await query.OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct);
        return row?.AsDto();
    }

    public Stream Open(FileVersionDto version) => store.OpenRead(version.Sha256);

    /// <summary>
    /// Streams <paramref name="content"/> into the store and records it as the next version. The version
    /// becomes visible only when its row commits, after the bytes are complete on disk.
    /// </summary>
    public async Task<FileVersionDto> AddVersionAsync(FileResource resource, Stream content, string fileName, string mediaType,
        string actorId, string actorName, CancellationToken ct)
    {
        var stored = await store.WriteAsync(content, MaxFileBytes, ct);
        if (stored.Bytes == 0) throw new EmptyFileException();
        for (var attempt = 1; ; attempt++)
        {
            var next = (await db.Set<FileVersion>().Where(v => v.ResourceId == resource.Id).MaxAsync(v => (int?)v.Version, ct) ?? 0) + 1;
            var row = new FileVersion
            {
                ResourceId = resource.Id, Version = next, FileName = fileName, MediaType = mediaType, Bytes = stored.Bytes, Sha256 = stored.Sha256,
                UploadedAt = time.GetUtcNow(), UploadedBy = actorId, UploadedByName = actorName,
            };
            db.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
                return row.AsDto();
            }
            catch (DbUpdateException) when (attempt < 5)
            {
                // Another upload took this number (unique index); take the next one.
                db.Entry(row).State = EntityState.Detached;
            }
        }
    }

    /// <summary>
    /// For the open portal: a version of a 无条件开放 file resource, or null when the resource is not open to
    /// everyone (or has no such version). The caller audits the download.
    /// </summary>
    public async Task<FileDownload?> OpenForPublicAsync(string resourceId, int? version, CancellationToken ct)
    {
        var resource = await FindAsync(resourceId, ct);
        if (resource is not { IsOpenToAll: true }) return null;
        var v = await VersionAsync(resourceId, version, ct);
        return v is null ? null : new FileDownload(resource, v, () => Open(v));
    }
}
