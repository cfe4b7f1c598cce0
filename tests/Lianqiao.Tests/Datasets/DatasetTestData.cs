using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Datasets;

/// <summary>Schemas and files the dataset tests share.</summary>
internal static class DatasetTestData
{
    public const string Header = "id_number,name,gender,birth_date,phone,address,household_id";

    /// <summary>A population table with the rules the demo uses: ID number (key), gender code, mobile as a warning, consistency.</summary>
    public static object PopulationSchema(Guid departmentId, string name = "人口基础信息") => new
    {
        name,
        departmentId,
        updateCycle = "4",
        columns = new object[]
        {
            new { name = "公民身份号码", column = "id_number", type = "C", length = 18, required = true, key = true, sensitivity = "L4", rules = new[] { new { kind = "id-number" } } },
            new { name = "姓名", column = "name", type = "C", length = 50, required = true, sensitivity = "L3", masking = "PersonName" },
            new { name = "性别", column = "gender", type = "C", length = 1, codeTable = "gender" },
            new { name = "出生日期", column = "birth_date", type = "D", rules = new[] { new { kind = "range", min = "1900-01-01", max = "today" } } },
            new { name = "手机号码", column = "phone", type = "C", length = 16, rules = new[] { new { kind = "mobile", severity = "warning" } } },
            new { name = "住址", column = "address", type = "C", length = 200, masking = "Address" },
            new { name = "户号", column = "household_id", type = "C", length = 16 },
        },
        rules = new[] { new { kind = "id-consistency", column = "id_number", other = "birth_date", genderColumn = "gender" } },
    };

    /// <summary>A valid row for a person born on <paramref name="born"/>; the sequence makes the ID unique.</summary>
    public static string Row(int sequence, DateOnly born, bool male = true, string name = "张三", string phone = "13812345678", string? id = null)
    {
        id ??= Id(sequence, born, male);
        return $"{id},{name},{(male ? 1 : 2)},{born:yyyy-MM-dd},{phone},江苏省连云港市海州区朝阳路{sequence}号,H{sequence % 1000:D6}";
    }

    public static string Id(int sequence, DateOnly born, bool male = true)
    {
        var seq = (sequence % 500) * 2 + (male ? 1 : 0);
        var first17 = $"320706{born:yyyyMMdd}{seq:D3}";
        return first17 + ResidentIdNumber.ComputeCheckChar(first17);
    }

    public static string Csv(params string[] rows) => Header + "\n" + string.Join("\n", rows) + "\n";

    public static async Task<HttpResponseMessage> PutSchemaAsync(HttpClient client, string resourceId, object schema) =>
        await client.PutJsonAsync($"/api/v1/datasets/{resourceId}/schema", schema);

    public static async Task<HttpResponseMessage> LoadAsync(HttpClient client, string resourceId, byte[] body, string mode = "append", string contentType = "text/csv", string? format = null)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var url = $"/api/v1/datasets/{resourceId}/loads?mode={mode}" + (format is null ? "" : "&format=" + format);
        return await client.PostAsync(url, content);
    }

    public static Task<HttpResponseMessage> LoadCsvAsync(HttpClient client, string resourceId, string csv, string mode = "append") =>
        LoadAsync(client, resourceId, Encoding.UTF8.GetBytes(csv), mode);

    public static Task<HttpResponseMessage> PutJsonAsync<T>(this HttpClient client, string url, T body) =>
        System.Net.Http.Json.HttpClientJsonExtensions.PutAsJsonAsync(client, url, body, HttpAssertions.Json);

    /// <summary>
    /// Writes a 400,000-row population file, starts a real <c>lianqiao load</c> process on it, waits until its load is
    /// running and a second more, then kills the process: what a crash mid-load looks like to the database. Returns the load it left behind.
    /// </summary>
    public static async Task<DatasetLoad> KillCliLoadMidwayAsync(LianqiaoServer server, string resourceId, DateOnly born, params string[] extraArgs)
    {
        var file = Path.Combine(server.DataDirectory, $"{resourceId}.csv");
        await using (var w = new StreamWriter(file, false, new UTF8Encoding(false)))
        {
            await w.WriteLineAsync(Header);
            for (var i = 0; i < 1_000_000; i++) await w.WriteLineAsync(Row(i, born.AddDays(i / 500)));
        }

        var args = new List<string> { typeof(Lianqiao.Hosting.LianqiaoApp).Assembly.Location, "load", resourceId, file, "--data", server.DataDirectory };
        args.AddRange(extraArgs);
        if (server.PostgresConnectionString is { } pg) args.AddRange(["--db", pg]);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        _ = child.StandardError.ReadToEndAsync();
        _ = child.StandardOutput.ReadToEndAsync();

        var deadline = DateTime.UtcNow.AddSeconds(90);
        DatasetLoad? running = null;
        while (running is null && DateTime.UtcNow < deadline && !child.HasExited)
        {
            running = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetLoad>().AsNoTracking()
                .FirstOrDefaultAsync(l => l.ResourceId == resourceId && l.Status == LoadStatus.Running));
            if (running is null) await Task.Delay(100);
        }
        Assert.NotNull(running);
        await Task.Delay(1000); // well into writing
        // A load that already ended could not be killed mid-way, and the test would prove nothing.
        Assert.False(child.HasExited, "the load ended before it could be killed: the file is too small for this machine");
        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();
        return running;
    }
}
