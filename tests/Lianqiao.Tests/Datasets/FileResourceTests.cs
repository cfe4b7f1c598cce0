using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets.Files;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Datasets;

/// <summary>The foundation plus the demo catalog and its demo attachment (p3-datasets/002).</summary>
public sealed class FileServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal)
        || step.Id == "p3-datasets/002-demo-file-attachment";
}

public sealed class FileResourceTests(FileServer server) : IClassFixture<FileServer>
{
    /// <summary>Deterministic bytes of a given length, produced while read: neither side holds the file.</summary>
    sealed class GeneratedStream(long length, long failAfter = long.MaxValue) : Stream
    {
        readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long position;
        public string Sha256 => Convert.ToHexStringLower(hash.GetHashAndReset());
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (position >= failAfter) throw new IOException("the client gave up");
            var n = (int)Math.Min(count, length - position);
            for (var i = 0; i < n; i++) buffer[offset + i] = (byte)((position + i) * 31 % 251);
            hash.AppendData(buffer, offset, n);
            position += n;
            return n;
        }
    }

    static async Task<(string Sha, long Bytes)> HashOfAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0) { hash.AppendData(buffer, 0, n); total += n; }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), total);
    }

    static StreamContent Raw(Stream content, string mediaType)
    {
        var body = new StreamContent(content, 1 << 16);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return body;
    }

    string Incoming => Path.Combine(server.DataDirectory, "files", "incoming");

    [Fact]
    public async Task Steward_uploads_a_file_larger_than_the_request_limit_default_and_downloads_it_intact()
    {
        var slug = await server.FileResourceAsync("file-big", server.OwnDepartmentId);
        using var steward = await server.AsUserAsync("t-steward");
        steward.Timeout = TimeSpan.FromMinutes(5);
        // Kestrel refuses bodies over 30 MB by default; this is 40 MB, sent chunked with no length known up front.
        const long size = 40L * 1024 * 1024;
        var generated = new GeneratedStream(size);
        var created = await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=" + Uri.EscapeDataString("营业执照模板.pdf"), Raw(generated, "application/pdf"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var v1 = (await created.Content.ReadFromJsonAsync<FileVersionDto>())!;
        var sent = generated.Sha256;
        Assert.Equal((1, size, sent, "营业执照模板.pdf", "application/pdf"), (v1.Version, v1.Bytes, v1.Sha256, v1.FileName, v1.MediaType));
        Assert.Equal($"/api/v1/datasets/{slug}/files/1", created.Headers.Location!.ToString());
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "files", sent[..2], sent)));

        using var form = new MultipartFormDataContent();
        var small = new ByteArrayContent("第二版"u8.ToArray());
        small.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; charset=utf-8");
        form.Add(small, "file", "说明.txt");
        var v2 = await (await steward.PostAsync($"/api/v1/datasets/{slug}/files", form)).CreatedVersionAsync();
        Assert.Equal((2, 9L, "说明.txt"), (v2.Version, v2.Bytes, v2.FileName));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("第二版"u8)), v2.Sha256);

        var versions = await steward.GetFromJsonAsync<List<FileVersionDto>>($"/api/v1/datasets/{slug}/files");
        Assert.Equal([2, 1], versions!.Select(v => v.Version));
        Assert.Equal("t-steward", versions![0].UploadedBy);

        using var download = await steward.GetAsync($"/api/v1/datasets/{slug}/files/1", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/pdf", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal(size, download.Content.Headers.ContentLength);
        Assert.Equal($"\"{sent}\"", download.Headers.ETag!.Tag);
        Assert.Equal("营业执照模板.pdf", download.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal($"sha-256=:{Convert.ToBase64String(Convert.FromHexString(sent))}:", download.Headers.GetValues("Repr-Digest").Single());
        Assert.Equal((sent, size), await HashOfAsync(download));

        // Ranges work on the stored file (resumable downloads of large files).
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/datasets/{slug}/files/1") { Headers = { Range = new RangeHeaderValue(10, 19) } };
        using var part = await steward.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (byte)(i * 31 % 251)), await part.Content.ReadAsByteArrayAsync());

        Assert.Contains(await server.AuditAsync("dataset.file.upload"), a => a.TargetId == slug && a.Detail!.Contains(sent, StringComparison.Ordinal));
        Assert.Contains(await server.AuditAsync("dataset.file.download"), a => a.TargetId == slug && a.Detail!.Contains(sent, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Incoming));

        var openApi = await steward.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/v1/datasets/{resourceId}/files\"", openApi, StringComparison.Ordinal);
        Assert.Contains("\"/api/v1/datasets/{resourceId}/files/{version}\"", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_aborted_upload_leaves_no_version_and_no_stored_file()
    {
        var slug = await server.FileResourceAsync("file-abort", server.OwnDepartmentId);
        using var steward = await server.AsUserAsync("t-steward");
        await Assert.ThrowsAnyAsync<Exception>(() =>
            steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=x.bin", Raw(new GeneratedStream(8L * 1024 * 1024, failAfter: 2L * 1024 * 1024), "application/octet-stream")));

        // The server notices the broken request on its own schedule; give it a moment, then nothing may be left.
        for (var i = 0; i < 50 && Directory.Exists(Incoming) && Directory.GetFiles(Incoming).Length > 0; i++) await Task.Delay(100);
        Assert.True(!Directory.Exists(Incoming) || Directory.GetFiles(Incoming).Length == 0);
        Assert.Empty((await steward.GetFromJsonAsync<List<FileVersionDto>>($"/api/v1/datasets/{slug}/files"))!);
        var ok = await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=x.bin", new ByteArrayContent([1, 2, 3]));
        Assert.Equal(1, (await ok.CreatedVersionAsync()).Version);
    }

    [Fact]
    public async Task Bad_uploads_are_refused_with_problems()
    {
        var slug = await server.FileResourceAsync("file-bad", server.OwnDepartmentId);
        using var steward = await server.AsUserAsync("t-steward");
        var empty = await (await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=a.pdf", new ByteArrayContent([]))).ProblemAsync(400);
        Assert.Contains("file", empty.Errors!.Keys);
        var unnamed = await (await steward.PostAsync($"/api/v1/datasets/{slug}/files", new ByteArrayContent([1]))).ProblemAsync(400);
        Assert.Contains("fileName", unnamed.Errors!.Keys);
        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "note" } };
        await (await steward.PostAsync($"/api/v1/datasets/{slug}/files", noFile)).ProblemAsync(400);
        await (await steward.GetAsync($"/api/v1/datasets/{slug}/files/9")).ProblemAsync(404);
        // A tabular resource (数据库) is not a file resource.
        await (await steward.GetAsync("/api/v1/datasets/population-basic/files")).ProblemAsync(404);
        Assert.Empty((await steward.GetFromJsonAsync<List<FileVersionDto>>($"/api/v1/datasets/{slug}/files"))!);
    }

    [Fact]
    public async Task Other_departments_need_a_file_grant_with_download_and_its_quota_counts_downloads()
    {
        var slug = await server.FileResourceAsync("file-granted", server.OtherDepartmentId);
        using var admin = await server.AsAdminAsync();
        await (await admin.PostAsync($"/api/v1/datasets/{slug}/files?fileName=a.pdf", new ByteArrayContent([1, 2, 3]))).CreatedVersionAsync();
        using var steward = await server.AsUserAsync("t-steward");
        await (await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=b.pdf", new ByteArrayContent([1]))).ProblemAsync(403);
        await (await steward.GetAsync($"/api/v1/datasets/{slug}/files")).ProblemAsync(403);

        using var app = server.WithKey(await server.AppKeyAsync("t-app"));
        Assert.Equal("no-grant", (await (await app.GetAsync($"/api/v1/datasets/{slug}/files")).ProblemAsync(403)).Code);
        var listOnly = await IssueFileGrantAsync(slug, download: false, quota: null);
        Assert.Single((await app.GetFromJsonAsync<List<FileVersionDto>>($"/api/v1/datasets/{slug}/files"))!);
        Assert.Equal("download-not-granted", (await (await app.GetAsync($"/api/v1/datasets/{slug}/files/1")).ProblemAsync(403)).Code);
        await RevokeAsync(listOnly);

        var grant = await IssueFileGrantAsync(slug, download: true, quota: 1);
        var first = await app.GetAsync($"/api/v1/datasets/{slug}/files/1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal([1, 2, 3], await first.Content.ReadAsByteArrayAsync());
        Assert.Equal("quota-exceeded", (await (await app.GetAsync($"/api/v1/datasets/{slug}/files/1")).ProblemAsync(429)).Code);
        Assert.Contains(await server.AuditAsync("dataset.file.download"), a => a.TargetId == slug && a.Detail!.Contains(grant.ToString(), StringComparison.Ordinal));
        // Exchange volume is a statistic, summed per node and written once a second: write it now.
        await server.App.Services.GetRequiredService<ExchangeCounterBuffer>().FlushAsync();
        var exchanged = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeCounter>().Where(c => c.ResourceId == slug).SumAsync(c => c.Bytes));
        Assert.Equal(3, exchanged);

        await RevokeAsync(grant);
        Assert.Equal("no-grant", (await (await app.GetAsync($"/api/v1/datasets/{slug}/files/1")).ProblemAsync(403)).Code);
    }

    [Fact]
    public async Task The_open_portal_service_serves_only_unconditionally_open_files()
    {
        var open = await server.FileResourceAsync("file-open", server.OwnDepartmentId, openType: "1", formatCategory: "4");
        var closed = await server.FileResourceAsync("file-closed", server.OwnDepartmentId, openType: "3");
        using var steward = await server.AsUserAsync("t-steward");
        foreach (var slug in new[] { open, closed })
            await (await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=map.png", Raw(new MemoryStream([9, 8, 7]), "image/png"))).CreatedVersionAsync();

        await server.InScopeAsync(async sp =>
        {
            var files = sp.GetRequiredService<FileResources>();
            var download = await files.OpenForPublicAsync(open, null, default);
            Assert.NotNull(download);
            Assert.Equal(("image/png", 3L), (download.Version.MediaType, download.Version.Bytes));
            await using (var stream = download.Open())
            {
                var bytes = new byte[3];
                await stream.ReadExactlyAsync(bytes);
                Assert.Equal([9, 8, 7], bytes);
            }
            Assert.Null(await files.OpenForPublicAsync(closed, null, default));
            Assert.Null(await files.OpenForPublicAsync(open, 5, default));
            return 0;
        });
    }

    [Fact]
    public async Task The_demo_catalog_has_a_file_resource_with_a_pdf_attachment()
    {
        var (slug, departmentId) = await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            var v = await db.Set<FileVersion>().AsNoTracking().Where(v => v.UploadedBy == "seed").SingleAsync();
            return (v.ResourceId, await db.Set<CatalogResource>().Where(r => r.Slug == v.ResourceId).Select(r => r.DepartmentId).SingleAsync());
        });
        using var admin = await server.AsAdminAsync();
        var versions = await admin.GetFromJsonAsync<List<FileVersionDto>>($"/api/v1/datasets/{slug}/files");
        Assert.Equal("application/pdf", versions!.Single().MediaType);
        var pdf = await admin.GetByteArrayAsync($"/api/v1/datasets/{slug}/files/1");
        Assert.StartsWith("%PDF-1.4", System.Text.Encoding.ASCII.GetString(pdf));
        Assert.NotEqual(Guid.Empty, departmentId);
    }

    [Fact]
    public async Task Steward_uploads_on_the_file_page_and_colleagues_see_the_versions()
    {
        var slug = await server.FileResourceAsync("file-page", server.OwnDepartmentId);
        using var steward = await server.AsUserAsync("t-steward");
        var page = await steward.GetStringAsync($"/datasets/{slug}/files");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new ByteArrayContent(FilesDemoPdf), "file", "证照模板.pdf" },
        };
        form.Last().Headers.ContentType = MediaTypeHeaderValue.Parse("application/pdf");
        var posted = await steward.PostAsync($"/datasets/{slug}/files/upload", form);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Equal($"/datasets/{slug}/files?uploaded=1", posted.Headers.Location?.ToString());

        using var approver = await server.AsUserAsync("t-approver");
        var listed = await approver.GetStringAsync($"/datasets/{slug}/files");
        Assert.Contains($"href=\"/api/v1/datasets/{slug}/files/1\"", listed, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(FilesDemoPdf))[..16], listed, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"file-upload\"", listed, StringComparison.Ordinal);
        Assert.Contains($"/datasets/{slug}/files", await approver.GetStringAsync("/datasets"), StringComparison.Ordinal);
        Assert.Equal(FilesDemoPdf, await approver.GetByteArrayAsync($"/api/v1/datasets/{slug}/files/1"));
    }

    [Fact]
    public async Task The_sweep_deletes_old_unreferenced_content_and_abandoned_uploads_only()
    {
        var slug = await server.FileResourceAsync("file-sweep", server.OwnDepartmentId);
        using var steward = await server.AsUserAsync("t-steward");
        var kept = await (await steward.PostAsync($"/api/v1/datasets/{slug}/files?fileName=kept.bin", new ByteArrayContent([4, 5, 6]))).CreatedVersionAsync();
        var store = Path.Combine(server.DataDirectory, "files");
        var keptPath = Path.Combine(store, kept.Sha256[..2], kept.Sha256);
        var orphan = Path.Combine(store, "ff", new string('f', 64));
        var fresh = Path.Combine(store, "ee", new string('e', 64));
        var abandoned = Path.Combine(Incoming, "killed-upload");
        foreach (var path in new[] { orphan, fresh, abandoned })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, [1]);
        }
        var old = DateTime.UtcNow - FileSweepJob.Grace - TimeSpan.FromHours(1);
        foreach (var path in new[] { orphan, abandoned, keptPath }) File.SetLastWriteTimeUtc(path, old);

        var summary = await server.InScopeAsync(sp => sp.GetServices<Lianqiao.Jobs.IScheduledJob>().Single(j => j.Name == "datasets.file-sweep").RunAsync(sp, default));
        Assert.Contains("abandoned", summary, StringComparison.Ordinal);
        Assert.False(File.Exists(orphan));
        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(fresh), "a young unreferenced file may belong to an upload in flight");
        Assert.True(File.Exists(keptPath));
        Assert.Equal([4, 5, 6], await steward.GetByteArrayAsync($"/api/v1/datasets/{slug}/files/{kept.Version}"));
        File.Delete(fresh);
    }

    static readonly byte[] FilesDemoPdf = FilesDemoSeed.MinimalPdf("page upload");

    async Task<Guid> IssueFileGrantAsync(string slug, bool download, long? quota)
    {
        var appId = await server.AppIdAsync("t-app");
        return await server.InScopeAsync(async sp => (await sp.GetRequiredService<GrantService>().IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Application, PrincipalId = appId.ToString(), ConsumerDepartmentId = server.OwnDepartmentId,
            ResourceId = slug, ProviderDepartmentId = server.OtherDepartmentId, Kind = GrantKind.File, Download = download, QuotaPerDay = quota,
            ExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
        }, new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "test" }, default)).Id);
    }

    Task RevokeAsync(Guid grantId) => server.InScopeAsync(sp =>
        sp.GetRequiredService<GrantService>().RevokeAsync(grantId, "test", new AuditEntry("grant.revoke") { ActorKind = "System", ActorName = "test" }, default));
}

static class FileResponses
{
    public static async Task<FileVersionDto> CreatedVersionAsync(this HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.OkJsonAsync<FileVersionDto>();
    }
}

public static class FileTestData
{
    /// <summary>A published 电子文件 resource of a department, straight into the catalog tables.</summary>
    public static async Task<string> FileResourceAsync(this LianqiaoServer server, string slug, Guid departmentId, string openType = "3", string formatCategory = "1") =>
        await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            if (!await db.Set<CatalogResource>().AnyAsync(r => r.Slug == slug))
            {
                db.Add(new CatalogResource
                {
                    Slug = slug, Code = "T" + slug, ClassCode = "3", SubjectCode = "07", CatalogCode = "001", Name = "测试文件 " + slug, DepartmentId = departmentId,
                    ProviderCode = "", FormatCategory = formatCategory, FormatType = "pdf", ShareType = "1", OpenType = openType, OpenEligible = openType == "1",
                    UpdateCycle = "8", Library = "department", ClassificationLevel = "general", Status = ResourceStatus.Published, Version = 1,
                    CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
                });
                await db.SaveChangesAsync();
            }
            return slug;
        });
}
