using System.Text.Json;
using Lianqiao.Hosting;

namespace Lianqiao.Datasets;

/// <summary>What the wizard knows about a file between upload, preview and run.</summary>
internal sealed record StagedUpload(string Token, string ResourceId, string UserId, string FileName, string Format, string Mode, long Bytes,
    DateTimeOffset UploadedAt)
{
    public string Path { get; init; } = "";
}

/// <summary>
/// The load wizard's uploads, kept on disk (DATA/uploads) from the upload until the load has run, so the steward can
/// preview and map columns first. Each is visible only to the user who uploaded it; abandoned ones go after a day.
/// </summary>
internal sealed class StagedUploads(HostSettings settings, TimeProvider time)
{
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(1);
    string Root => System.IO.Path.Combine(settings.DataDirectory, "uploads");

    public async Task<StagedUpload> SaveAsync(Stream content, string resourceId, string userId, string fileName, string format, string mode, CancellationToken ct)
    {
        Directory.CreateDirectory(Root);
        PurgeAbandoned();
        var token = Guid.NewGuid().ToString("N");
        var path = DataPath(token);
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await content.CopyToAsync(file, ct);
            var staged = new StagedUpload(token, resourceId, userId, fileName, format, mode, new FileInfo(path).Length, time.GetUtcNow()) { Path = path };
            await File.WriteAllTextAsync(MetaPath(token), JsonSerializer.Serialize(staged), ct);
            return staged;
        }
        catch
        {
            Delete(token);
            throw;
        }
    }

    /// <summary>The upload, if it exists and belongs to this user and resource.</summary>
    public StagedUpload? Find(string token, string resourceId, string userId)
    {
        if (token.Length != 32 || !token.All(char.IsAsciiHexDigitLower) || !File.Exists(MetaPath(token))) return null;
        var staged = JsonSerializer.Deserialize<StagedUpload>(File.ReadAllText(MetaPath(token)));
        return staged is null || staged.ResourceId != resourceId || staged.UserId != userId || !File.Exists(DataPath(token)) ? null
            : staged with { Path = DataPath(token) };
    }

    public void Delete(string token)
    {
        File.Delete(DataPath(token));
        File.Delete(MetaPath(token));
    }

    void PurgeAbandoned()
    {
        var before = time.GetUtcNow() - KeptFor;
        foreach (var file in new DirectoryInfo(Root).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc < before.UtcDateTime) file.Delete();
        }
    }

    string DataPath(string token) => System.IO.Path.Combine(Root, token + ".upload");
    string MetaPath(string token) => System.IO.Path.Combine(Root, token + ".json");
}
