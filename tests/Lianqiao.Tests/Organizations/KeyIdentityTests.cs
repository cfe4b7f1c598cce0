using System.Security.Claims;
using Lianqiao.Organizations;
using Xunit;

namespace Lianqiao.Tests.Organizations;

/// <summary>The remembered-key shortcut of gateway calls must name the same cache entry and the same caller as the handler.</summary>
public sealed class KeyIdentityTests
{
    [Theory]
    [InlineData("lq_p43J4k9pFPgLg-Njv2-bGMJARN9LCThGsepeQXHOeM")]
    [InlineData("密钥-with-multibyte-字符")]
    [InlineData("a-secret-longer-than-sixty-four-characters-0123456789-0123456789-0123456789-0123456789")]
    public void The_cache_key_built_from_the_header_is_the_one_the_handler_stores(string secret) =>
        Assert.Equal(ApiKeyAuthenticationHandler.CacheKey(ApiKey.HashOf(secret)), ApiKeyAuthenticationHandler.CacheKeyOf(secret));

    [Fact]
    public void A_shared_key_identity_gives_every_request_the_caller_its_claims_describe()
    {
        var department = Guid.NewGuid();
        Claim[] claims =
        [
            new(ClaimTypes.NameIdentifier, "app-1"), new(Caller.KindClaim, nameof(PrincipalKind.User)), new(ClaimTypes.Name, "人社业务系统"),
            new(Caller.DepartmentClaim, department.ToString()), new(ClaimTypes.Role, Roles.Steward),
        ];
        var identity = new KeyIdentity(claims);
        var first = Caller.From(new ClaimsPrincipal(identity))!;
        var second = Caller.From(new ClaimsPrincipal(identity))!;
        var read = Caller.FromClaims(new ClaimsPrincipal(new ClaimsIdentity(claims, "test", ClaimTypes.Name, ClaimTypes.Role)))!;

        Assert.Same(first, second);
        Assert.Equal((read.Kind, read.Id, read.Name, read.DepartmentId), (first.Kind, first.Id, first.Name, first.DepartmentId));
        Assert.Equal(read.Roles.Order(), first.Roles.Order());
        Assert.True(first.Is(Roles.Steward));
    }
}
