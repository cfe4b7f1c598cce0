using System.Security.Claims;
using System.Text.Encodings.Web;
using Lianqiao.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Lianqiao.Organizations;

/// <summary>
/// Accepts "Authorization: Bearer &lt;key&gt;" and a bare "Authorization: &lt;key&gt;" (what CKAN clients send).
/// A resolved key is remembered on this node for at most one second (<see cref="CacheFor"/>), so a busy key costs one
/// database lookup a second instead of one per request, and a revoke still takes effect on every node within a second.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    TimeProvider time, Microsoft.Extensions.Caching.Memory.IMemoryCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    sealed record ResolvedKey(Guid KeyId, DateTimeOffset ExpiresAt, Claim[] Claims)
    {
        public ClaimsIdentity Identity() => new(Claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
    }

    /// <summary>The key behind <paramref name="hash"/> as this node resolved it less than <see cref="CacheFor"/> ago, unless it has expired since.</summary>
    static ResolvedKey? Remembered(IMemoryCache cache, string hash, DateTimeOffset now) =>
        cache.TryGetValue(CacheKey(hash), out ResolvedKey? resolved) && resolved!.ExpiresAt > now ? resolved : null;

    public static string CacheKey(string hash) => "apikey:" + hash;

    public static string? ReadKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().Trim();
        if (header.Length == 0) return null;
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = ReadKey(Request);
        if (secret is null) return AuthenticateResult.NoResult();
        var hash = ApiKey.HashOf(secret);
        var now = time.GetUtcNow();
        if (Remembered(cache, hash, now) is { } resolved) return Success(resolved.KeyId, resolved.Identity());
        var key = await Db.Set<ApiKey>().AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("unknown key");
        if (key.RevokedAt is not null) return AuthenticateResult.Fail("revoked key");
        if (key.ExpiresAt <= now) return AuthenticateResult.Fail("expired key");

        var identity = await BuildIdentityAsync(key);
        if (identity is null) return AuthenticateResult.Fail("key owner no longer exists");

        // Throttled so a busy key costs one write a minute, not one per request.
        if (key.LastUsedAt is null || now - key.LastUsedAt > LastUsedResolution)
        {
            var stale = now - LastUsedResolution;
            await Db.Set<ApiKey>().Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt < stale))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);
        }
        cache.Set(CacheKey(hash), new ResolvedKey(key.Id, key.ExpiresAt, identity.Claims.ToArray()), CacheFor);
        return Success(key.Id, identity);
    }

    /// <summary>
    /// Signs the request in with a key this node resolved less than <see cref="CacheFor"/> ago, the same principal
    /// <see cref="HandleAuthenticateAsync"/> would give it, without running the authentication middleware; false when
    /// the request carries no key or one not remembered here (the middleware then judges it, with its answers).
    /// Revokes and expiry bind as in the handler: a revoke removes the entry on its node, the entry lives one second.
    /// </summary>
    public static bool TryAuthenticateRemembered(HttpContext context, IMemoryCache cache, TimeProvider time)
    {
        var secret = ReadKey(context.Request);
        if (secret is null || Remembered(cache, ApiKey.HashOf(secret), time.GetUtcNow()) is not { } resolved) return false;
        context.Items[typeof(ApiKey)] = resolved.KeyId;
        context.User = new ClaimsPrincipal(resolved.Identity());
        return true;
    }

    /// <summary>Resolved on a cache miss only: a remembered key costs the request no database context.</summary>
    LianqiaoDb Db => Context.RequestServices.GetRequiredService<LianqiaoDb>();

    AuthenticateResult Success(Guid keyId, ClaimsIdentity identity)
    {
        Context.Items[typeof(ApiKey)] = keyId;
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    async Task<ClaimsIdentity?> BuildIdentityAsync(ApiKey key)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, key.OwnerId),
            new(Caller.KindClaim, key.OwnerKind.ToString()),
        };
        switch (key.OwnerKind)
        {
            case PrincipalKind.User:
                var user = await Db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == key.OwnerId);
                if (user is null || (user.LockoutEnd is { } end && end > time.GetUtcNow())) return null;
                claims.Add(new Claim(ClaimTypes.Name, user.UserName ?? user.Id));
                if (user.DepartmentId is { } dept) claims.Add(new Claim(Caller.DepartmentClaim, dept.ToString()));
                var roles = await (from ur in Db.Set<IdentityUserRole<string>>()
                                   join r in Db.Roles on ur.RoleId equals r.Id
                                   where ur.UserId == user.Id
                                   select r.Name).ToListAsync();
                claims.AddRange(roles.Where(r => r is not null).Select(r => new Claim(ClaimTypes.Role, r!)));
                break;
            case PrincipalKind.Application:
                var appId = Guid.TryParse(key.OwnerId, out var a1) ? a1 : Guid.Empty;
                var app = await Db.Set<ConsumerApp>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId);
                if (app is null || app.Disabled) return null;
                claims.Add(new Claim(ClaimTypes.Name, app.Name));
                claims.Add(new Claim(Caller.DepartmentClaim, app.DepartmentId.ToString()));
                break;
            case PrincipalKind.Developer:
                var developerId = Guid.TryParse(key.OwnerId, out var d1) ? d1 : Guid.Empty;
                var developer = await Db.Set<Developer>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == developerId);
                if (developer is null) return null;
                claims.Add(new Claim(ClaimTypes.Name, developer.DisplayName));
                break;
        }
        return new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
    }
}

/// <summary>Adds the department and principal kind to the sign-in cookie, so cookie and key callers look alike.</summary>
internal sealed class LianqiaoClaimsFactory(UserManager<User> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<User, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(User user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(Caller.KindClaim, nameof(PrincipalKind.User)));
        if (user.DepartmentId is { } dept) identity.AddClaim(new Claim(Caller.DepartmentClaim, dept.ToString()));
        return identity;
    }
}
