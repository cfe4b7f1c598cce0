using System.Security.Cryptography;
using Lianqiao.Hosting;
using Xunit;

namespace Lianqiao.Tests.Hosting;

public sealed class KeyFolderTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("lianqiao-keys-").FullName;
    readonly KeyFolder folder;
    // A variable of this test's own: the process environment is shared with every other test.
    readonly string variable = "LIANQIAO_TEST_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public KeyFolderTests() => folder = new KeyFolder(new HostSettings { DataDirectory = data });

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(variable, null);
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public void A_key_is_created_once_owner_only_and_read_back_the_same()
    {
        Assert.Null(folder.Current("pseudonym"));
        var created = folder.GetOrCreate("pseudonym");
        Assert.Equal(32, created.Material.Length);
        Assert.Equal(KeyFolder.IdOf(created.Material), created.Id);
        Assert.Equal(created.Material, folder.GetOrCreate("pseudonym").Material);
        Assert.NotEqual(created.Material, folder.GetOrCreate("other").Material);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, "keys", "pseudonym.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(data, "keys")));
        }
    }

    [Fact]
    public async Task Racing_creators_all_get_the_one_key()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => folder.GetOrCreate("race"))));
        Assert.Single(keys.Select(k => k.Id).Distinct());
        Assert.Single(Directory.GetFiles(Path.Combine(data, "keys"), "*.key"));
    }

    [Fact]
    public async Task A_creator_waits_for_another_process_turn_and_takes_its_key()
    {
        // Another process holding the turn: the same exclusive lock file, opened apart from the folder's own lock.
        Directory.CreateDirectory(folder.Directory);
        var otherTurn = new FileStream(folder.CreationLockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var creating = Task.Run(() => folder.GetOrCreate("shared"));
        await Task.Delay(300);
        Assert.False(creating.IsCompleted);

        var othersKey = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(Path.Combine(folder.Directory, "shared.key"), Convert.ToBase64String(othersKey));
        otherTurn.Dispose();

        Assert.Equal(othersKey, (await creating).Material);
    }

    [Fact]
    public void The_environment_wins_and_retired_keys_stay_findable_by_id()
    {
        var file = folder.GetOrCreate("ledger");
        File.Move(Path.Combine(data, "keys", "ledger.key"), Path.Combine(data, "keys", "ledger.2026-11.key"));
        var fresh = folder.GetOrCreate("ledger");
        Assert.NotEqual(file.Id, fresh.Id);

        var fromEnv = RandomNumberGenerator.GetBytes(32);
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(fromEnv));
        var current = folder.GetOrCreate("ledger", variable);
        Assert.Equal(fromEnv, current.Material);
        Assert.Equal("env:" + variable, current.Source);

        var all = folder.All("ledger", variable);
        Assert.Equal(new[] { file.Id, fresh.Id, current.Id }.Order(), all.Keys.Order());
        // A similarly named key of another purpose is not one of them.
        folder.GetOrCreate("ledger-other");
        Assert.Equal(3, folder.All("ledger", variable).Count);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("c2hvcnQ=")]
    public void A_bad_environment_key_is_refused_rather_than_used(string value)
    {
        Environment.SetEnvironmentVariable(variable, value);
        Assert.Throws<InvalidOperationException>(() => folder.GetOrCreate("ledger", variable));
    }
}
