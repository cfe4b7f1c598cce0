using Lianqiao.Sharing;
using Xunit;

namespace Lianqiao.Tests.Sharing;

/// <summary>A service grant's methods and paths: whole path segments, methods in any case.</summary>
public sealed class GrantScopeTests
{
    [Theory]
    [InlineData("/arrivals", "/arrivals", true)]
    [InlineData("/arrivals", "/arrivals/12", true)]
    [InlineData("arrivals/", "/arrivals/12/", true)]
    [InlineData("/arrivals", "/arrivalsX", false)]
    [InlineData("/arrivals", "/arrival", false)]
    [InlineData("/arrivals/12", "/arrivals", false)]
    [InlineData("/", "/anything/at/all", true)]
    [InlineData("", "/", true)]
    [InlineData("/a", "/", false)]
    public void Paths_match_on_whole_segments(string allowed, string path, bool matches) =>
        Assert.Equal(matches, Grant.PathMatches(allowed, path));

    [Fact]
    public void A_service_grant_allows_its_methods_on_its_paths_only()
    {
        var grant = new Grant { PrincipalId = "app", ResourceId = "bus-arrivals", Kind = GrantKind.Service, Methods = ["GET", "post"], Paths = ["/arrivals", "/stops"] };
        Assert.True(grant.AllowsCall("get", "/arrivals/12"));
        Assert.True(grant.AllowsCall("POST", "/stops"));
        Assert.False(grant.AllowsCall("DELETE", "/stops"));
        Assert.False(grant.AllowsCall("GET", "/routes"));
        Assert.False(new Grant { PrincipalId = "app", ResourceId = "x", Kind = GrantKind.Table, Methods = ["GET"], Paths = ["/"] }.AllowsCall("GET", "/"));
    }
}
