using System.Buffers;
using System.Security.Cryptography;
using Lianqiao.Hosting;

namespace Lianqiao.Datasets.Files;

/// <summary>Content that reached the store whole: its hash (its name there) and size.</summary>
internal sealed record StoredContent(string Sha256, long Bytes);

/// <summary>The upload had no bytes; no version was recorded.</summary>
internal sealed class EmptyFileException() : Exception("The file is empty.");

/// <summary>The upload was larger than the limit; nothing was kept.</summary>
internal sealed class FileTooLargeException(long limit) : Exception($"The file is larger than {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Attachment bytes on disk under DATA/files, named by their SHA-256 (DATA/files/ab/abcdef…): identical
/// uploads share one file and a name never changes meaning. Content is streamed through a hash into
/// DATA/files/incoming and renamed into place only when complete, so an aborted upload leaves no stored file.
/// </summary>
internal sealed class FileStore(HostSettings settings)
{
    const int BufferSize = 1 << 16;
    string Root => Path.Combine(settings.DataDirectory, "files");

    public string PathOf(string sha256) => Path.Combine(Root, sha256[..2], sha256);

    public bool Exists(string sha256) => File.Exists(PathOf(sha256));

    public async Task<StoredContent> WriteAsync(Stream content, long limit, CancellationToken ct)
    {
        var incoming = Path.Combine(Root, "incoming");
        Directory.CreateDirectory(incoming);
        var temp = Path.Combine(incoming, Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long bytes = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                int n;
                while ((n = await content.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
                {
                    bytes += n;
                    if (bytes > limit) throw new FileTooLargeException(limit);
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }
                // On disk before the metadata row says the version exists.
                file.Flush(flushToDisk: true);
            }
            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            var target = PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // Same name, same bytes: when the content is already stored, the new copy is simply dropped.
            if (File.Exists(target)) File.Delete(temp);
            else File.Move(temp, target, overwrite: true);
            return new StoredContent(sha, bytes);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Deletes what no version refers to: content files not in <paramref name="referenced"/> and uploads left in
    /// incoming by a killed process, both only when older than <paramref name="before"/> (an upload in flight has its
    /// content renamed into place a moment before its version row commits).
    /// </summary>
    public (int Orphans, int Abandoned) Sweep(IReadOnlySet<string> referenced, DateTimeOffset before)
    {
        if (!Directory.Exists(Root)) return (0, 0);
        int orphans = 0, abandoned = 0;
        foreach (var dir in new DirectoryInfo(Root).EnumerateDirectories())
        {
            var incoming = dir.Name == "incoming";
            foreach (var file in dir.EnumerateFiles())
            {
                if (file.LastWriteTimeUtc >= before.UtcDateTime || (!incoming && referenced.Contains(file.Name))) continue;
                file.Delete();
                if (incoming) abandoned++; else orphans++;
            }
        }
        return (orphans, abandoned);
    }

    public FileStream OpenRead(string sha256) =>
        new(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
