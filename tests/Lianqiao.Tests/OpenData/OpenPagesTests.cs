using System.Net;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.OpenData;

/// <summary>The public pages over HTTP: server-rendered, no login, nothing never-open, masked previews, escaped catalog text.</summary>
public sealed class OpenPagesTests(OpenDataServer server) : IClassFixture<OpenDataServer>
{
    [Fact]
    public async Task Public_pages_render_without_login_and_in_english_too()
    {
        using var anonymous = server.Anonymous();
        foreach (var url in new[] { "/open", "/open/datasets?q=" + Uri.EscapeDataString("公交"), "/open/datasets/bus-routes", "/open/open-rate", "/open/showcase",
                     "/open/api-guide", "/open/feedback", "/open/developer", "/open/developer/verify?token=x", "/open/dev/mail" })
        {
            var response = await anonymous.GetAsync(url);
            var html = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode}");
            Assert.Contains("<main id=\"content\">", html);
            Assert.DoesNotContain("<script", html.Replace("&lt;script", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        }
        var home = await anonymous.GetStringAsync("/open");
        Assert.Contains("开放数据集", home);
        Assert.Contains("/open/datasets?topic=" + Uri.EscapeDataString("交通"), home);
        var english = await anonymous.GetStringAsync("/open?culture=en");
        Assert.Contains("open datasets", english);

        var department = await anonymous.GetStringAsync("/open/datasets/bus-routes");
        var deptLink = System.Text.RegularExpressions.Regex.Match(department, "/open/departments/([0-9a-f-]{36})").Groups[1].Value;
        var deptPage = await anonymous.GetStringAsync("/open/departments/" + deptLink);
        Assert.Contains("市交通运输局", deptPage);
        Assert.Contains("/open/datasets/bus-stops", deptPage);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/open/datasets/no-such-dataset")).StatusCode);
    }

    [Fact]
    public async Task Dataset_page_shows_metadata_masked_preview_downloads_and_curl()
    {
        using var anonymous = server.Anonymous();
        var html = await anonymous.GetStringAsync("/open/datasets/open-test-masked");
        Assert.Contains("id=\"preview\"", html);
        Assert.Contains("138******01", html);
        Assert.DoesNotContain("13800130001", html);
        Assert.DoesNotContain("王" + OpenDataServer.Marker, html);
        Assert.Contains("href=\"/open/api/v1/datasets/open-test-masked/export?format=csv&amp;bom=true\"", html);
        Assert.Contains("curl", html);
        // Catalog text is escaped, never markup.
        Assert.Contains("&lt;script&gt;alert", html);
        Assert.DoesNotContain("<script>alert", html);

        var conditional = await anonymous.GetStringAsync("/open/datasets/open-test-conditional");
        Assert.Contains("id=\"conditional-note\"", conditional);
        Assert.DoesNotContain("id=\"preview\"", conditional);
        Assert.DoesNotContain("id=\"download-csv\"", conditional);
    }

    [Fact]
    public async Task Never_open_resources_appear_on_no_page()
    {
        using var anonymous = server.Anonymous();
        var pages = new List<string>
        {
            await anonymous.GetStringAsync("/open"),
            await anonymous.GetStringAsync("/open/datasets?q=" + Uri.EscapeDataString("开放测试")),
            await anonymous.GetStringAsync("/open/open-rate"),
        };
        Assert.Contains("open-test-masked", pages[1]);
        foreach (var slug in OpenDataServer.Hidden)
        {
            var response = await anonymous.GetAsync("/open/datasets/" + slug);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain(OpenDataServer.Marker, await response.Content.ReadAsStringAsync());
            Assert.All(pages, p => Assert.DoesNotContain(slug, p));
        }
    }

    [Fact]
    public async Task Admin_sees_the_open_rate_per_department_and_approvers_their_open_applications()
    {
        using var admin = await server.AsAdminAsync();
        var html = await admin.GetStringAsync("/admin/open");
        Assert.Contains("开放率", html);
        Assert.Contains("市交通运输局", html);
        Assert.Contains("id=\"not-opened\"", html);
        Assert.Contains("open-test-closed", html);
        Assert.Contains("<svg role=\"img\"", html);

        using var approver = await server.AsUserAsync("t-approver");
        Assert.Contains("id=\"open-applications\"", await approver.GetStringAsync("/open-applications"));
        using var anonymous = server.Anonymous();
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync("/admin/open")).StatusCode);
    }
}
