using System.Security.Cryptography;

namespace Lianqiao.Hosting;

/// <summary>A secret key with its fingerprint id (what a seal or a pseudonym records instead of the key).</summary>
public sealed record SecretKey(string Id, byte[] Material, string Source);

/// <summary>
/// Secret keys held outside the database, so someone with only the database cannot forge what they sign:
/// DATA/keys/NAME.key (base64 of 32 random bytes, created owner-only on first need) or an environment
/// variable (base64), which wins. Retired keys stay as DATA/keys/NAME.*.key and are still found by id,
/// so what an old key signed can be checked after a rotation. The audit ledger and the masking
/// pseudonyms use this one folder.
/// </summary>
public sealed class KeyFolder(HostSettings settings)
{
    public const int KeyBytes = 32;

    public string Directory => Path.Combine(settings.DataDirectory, "keys");

    /// <summary>The current key: the environment variable, else the key file, created if absent.</summary>
    public SecretKey GetOrCreate(string name, string? environmentVariable = null) =>
        Current(name, environmentVariable) ?? Create(name);

    /// <summary>The current key without creating one; null when neither the variable nor the file exists.</summary>
    public SecretKey? Current(string name, string? environmentVariable = null)
    {
        if (environmentVariable is not null && Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } text)
            return FromBase64(text, "env:" + environmentVariable);
        var file = PathOf(name);
        return File.Exists(file) ? Read(file) : null;
    }

    /// <summary>Every key of <paramref name="name"/> this node holds, current and retired, by id.</summary>
    public IReadOnlyDictionary<string, SecretKey> All(string name, string? environmentVariable = null)
    {
        var keys = new Dictionary<string, SecretKey>(StringComparer.Ordinal);
        if (Current(name, environmentVariable) is { } current) keys[current.Id] = current;
        if (System.IO.Directory.Exists(Directory))
        {
            // NAME.key and NAME.<anything>.key; not NAME-other.key, not the temp files of Create.
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, name + ".*.key").Order(StringComparer.Ordinal))
            {
                var key = Read(file);
                keys.TryAdd(key.Id, key);
            }
            if (File.Exists(PathOf(name)) && Read(PathOf(name)) is var own) keys.TryAdd(own.Id, own);
        }
        return keys;
    }

    /// <summary>A short public fingerprint of a key: the first 8 bytes of its SHA-256, hex.</summary>
    public static string IdOf(ReadOnlySpan<byte> material) => Convert.ToHexStringLower(SHA256.HashData(material)[..8]);

    string PathOf(string name) => Path.Combine(Directory, name + ".key");

    // File.Move without overwrite checks and renames in two steps on Unix, so it cannot decide between two racing
    // creators: both could "win" and hand out different keys. Creators take turns instead, threads of this process
    // through this lock and processes through an exclusive lock file; the second one finds the first one's key.
    static readonly Lock Creating = new();

    /// <summary>The lock file through which processes sharing the data folder take turns creating keys.</summary>
    public string CreationLockFile => Path.Combine(Directory, ".create.lock");

    SecretKey Create(string name)
    {
        lock (Creating)
        {
            EnsureDirectory();
            using var turn = TakeCreationTurn();
            return CreateOnce(name);
        }
    }

    // FileShare.None is an exclusive flock on Unix and a share-mode lock on Windows; the operating system releases it
    // when a process dies, so a crashed creator never blocks the next one.
    FileStream TakeCreationTurn()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(CreationLockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(10);
            }
        }
    }

    SecretKey CreateOnce(string name)
    {
        var file = PathOf(name);
        if (File.Exists(file)) return Read(file);
        var temp = Path.Combine(Directory, $".{name}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)));
        }
        try
        {
            // The rename is atomic: a reader without the turn (Current, All) sees no key or the whole key, never half.
            File.Move(temp, file, overwrite: false);
        }
        catch (IOException)
        {
            File.Delete(temp); // a key put there by hand meanwhile: that one stands
        }
        return Read(file);
    }

    void EnsureDirectory()
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    static SecretKey Read(string file) => FromBase64(File.ReadAllText(file), file);

    static SecretKey FromBase64(string text, string source)
    {
        byte[] material;
        try
        {
            material = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"密钥格式错误 / The key in {source} is not base64.");
        }
        if (material.Length < 16) throw new InvalidOperationException($"密钥过短 / The key in {source} is shorter than 16 bytes.");
        return new SecretKey(IdOf(material), material, source);
    }
}
