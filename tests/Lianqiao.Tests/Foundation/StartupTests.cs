using System.Diagnostics;
using Lianqiao.Data;
using Lianqiao.Hosting;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Foundation;

public sealed class StartupTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    [Fact]
    public async Task Health_openapi_and_login_page_answer()
    {
        using var client = server.Anonymous();
        Assert.Contains("\"ok\"", await client.GetStringAsync("/healthz"));
        Assert.Contains("\"/api/v1/departments\"", await client.GetStringAsync("/openapi/v1.json"));
        var login = await client.GetStringAsync("/login");
        Assert.Contains("<html lang=\"zh-CN\"", login);
        Assert.Contains("登录", login);
        Assert.Contains("Sign in", await client.GetStringAsync("/login?culture=en"));
    }

    [Fact]
    public async Task First_start_created_an_admin_with_a_random_password()
    {
        Assert.Matches("^[A-Za-z0-9]{16}$", server.AdminPassword);
        var accountsFile = Path.Combine(server.DataDirectory, "demo-accounts.txt");
        Assert.True(File.Exists(accountsFile));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(accountsFile));
        Assert.Contains("police-steward", await File.ReadAllTextAsync(accountsFile));
    }

    [Fact]
    public async Task A_database_from_a_newer_build_is_refused()
    {
        var extra = new LianqiaoServerOnSameDatabase(server);
        await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\") VALUES ('29991231000000_FromTheFuture', '99.0')");
            return 0;
        });
        try
        {
            var ex = await Assert.ThrowsAsync<StartupRefusedException>(extra.PrepareAsync);
            Assert.Contains("FromTheFuture", ex.Message);
        }
        finally
        {
            await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Database.ExecuteSqlRawAsync(
                "DELETE FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" = '29991231000000_FromTheFuture'"));
        }
    }

    [Fact]
    public async Task Cli_create_key_prints_only_the_key_and_the_key_works()
    {
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "Lianqiao.dll"), "admin", "create-key", "--user", "admin", "--data", server.DataDirectory };
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The connection string travels in the environment, not the process list.
        if (server.PostgresConnectionString is { } pg) psi.Environment["LIANQIAO_DB"] = pg;
        using var process = Process.Start(psi)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var key = Assert.Single(lines).Trim();
        Assert.StartsWith("lq_", key);

        using var client = server.WithKey(key);
        var departments = await (await client.GetAsync("/api/v1/departments")).OkJsonAsync<List<Lianqiao.Organizations.DepartmentDto>>();
        Assert.NotEmpty(departments);
    }

    [Fact]
    public async Task Working_day_deadline_skips_the_national_day_holiday()
    {
        using var client = await server.AsUserAsync("t-consumer");
        // 2026-09-30 + 3 working days: 10-01..10-07 are holidays, 10-08 and 10-09 working, 10-10 (Saturday) is a 调休 working day.
        var text = await client.GetStringAsync("/api/v1/calendar/deadline?start=2026-09-30&workingDays=3");
        Assert.Contains("\"deadline\":\"2026-10-10\"", text);
    }

    /// <summary>A second host built on the fixture's database without going through its start-up.</summary>
    sealed class LianqiaoServerOnSameDatabase(LianqiaoServer server)
    {
        public async Task PrepareAsync()
        {
            await using var app = LianqiaoApp.Build(new HostSettings
            {
                Urls = "http://127.0.0.1:0",
                DataDirectory = server.DataDirectory,
                PostgresConnectionString = server.PostgresConnectionString,
                EnvironmentName = "Testing",
            });
            await LianqiaoApp.PrepareAsync(app, demo: false);
        }
    }
}
