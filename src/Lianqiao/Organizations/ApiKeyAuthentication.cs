using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>A key as this node resolved it; its identity is shared by the requests it signs in (see <see cref="KeyIdentity"/>).</summary>
    sealed record ResolvedKey(Guid KeyId, DateTimeOffset ExpiresAt, KeyIdentity Identity, Freshness Freshness);

    /// <summary>
    /// The key behind the cache key as this node resolved it less than <see cref="CacheFor"/> ago, unless it has expired
    /// since; null too for the one request that is to re-read it (<see cref="Freshness"/>, <paramref name="mayReRead"/>).
    /// </summary>
    static ResolvedKey? Remembered(IMemoryCache cache, string cacheKey, DateTimeOffset now, bool mayReRead = true) =>
        cache.TryGetValue(cacheKey, out ResolvedKey? resolved) && resolved!.ExpiresAt > now && resolved.Freshness.Serves(now, CacheFor, mayReRead)
            ? resolved : null;

    const string CachePrefix = "apikey:";

    public static string CacheKey(string hash) => CachePrefix + hash;

    /// <summary><see cref="CacheKey"/> of the secret's hash, built as one string: a gateway call asks it of every request.</summary>
    internal static string CacheKeyOf(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = stackalloc byte[256];
        var bytes = secret.Length <= 64 ? utf8[..Encoding.UTF8.GetBytes(secret, utf8)] : Encoding.UTF8.GetBytes(secret.ToArray());
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        Span<char> key = stackalloc char[CachePrefix.Length + 64];
        CachePrefix.CopyTo(key);
        Convert.TryToHexStringLower(hash, key[CachePrefix.Length..], out _);
        return new string(key);
    }

    public static string? ReadKey(HttpRequest request) => KeyOf(request) is { IsEmpty: false } key ? key.ToString() : null;

    /// <summary>The key the Authorization header carries, with or without "Bearer "; empty when there is none.</summary>
    static ReadOnlySpan<char> KeyOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().AsSpan().Trim();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = ReadKey(Request);
        if (secret is null) return AuthenticateResult.NoResult();
        var hash = ApiKey.HashOf(secret);
        var now = time.GetUtcNow();
        if (Remembered(cache, CacheKey(hash), now) is { } resolved) return Success(resolved.KeyId, resolved.Identity);
        var key = await Db.Set<ApiKey>().AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, Context.RequestAborted);
        // A re-read that finds the key gone, revoked or expired drops what this node remembers of it.
        if (key is null) return Forget(hash, "unknown key");
        if (key.RevokedAt is not null) return Forget(hash, "revoked key");
        if (key.ExpiresAt <= now) return Forget(hash, "expired key");

        var identity = await BuildIdentityAsync(key);
        if (identity is null) return Forget(hash, "key owner no longer exists");

        // Throttled so a busy key costs one write a minute, not one per request.
        if (key.LastUsedAt is null || now - key.LastUsedAt > LastUsedResolution)
        {
            var stale = now - LastUsedResolution;
            await Db.Set<ApiKey>().Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt < stale))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);
        }
        cache.Set(CacheKey(hash), new ResolvedKey(key.Id, key.ExpiresAt, identity, new Freshness(now)), CacheFor);
        return Success(key.Id, identity);
    }

    AuthenticateResult Forget(string hash, string failure)
    {
        cache.Remove(CacheKey(hash));
        return AuthenticateResult.Fail(failure);
    }

    /// <summary>
    /// Signs the request in with a key this node resolved less than <see cref="CacheFor"/> ago, the same principal
    /// <see cref="HandleAuthenticateAsync"/> would give it, without running the authentication middleware; false when
    /// the request carries no key or one not remembered here (the middleware then judges it, with its answers).
    /// Revokes and expiry bind as in the handler: a revoke removes the entry on its node, the entry lives one second.
    /// </summary>
    public static bool TryAuthenticateRemembered(HttpContext context, IMemoryCache cache, TimeProvider time)
    {
        // The key as a span: no string of it, nor of its hash, before the one cache key.
        var key = KeyOf(context.Request);
        // Never takes the re-read on itself: a request that is to re-read goes through the middleware to the handler.
        if (key.IsEmpty || Remembered(cache, CacheKeyOf(key), time.GetUtcNow(), mayReRead: false) is not { } resolved) return false;
        context.Items[typeof(ApiKey)] = resolved.KeyId;
        context.User = new ClaimsPrincipal(resolved.Identity);
        return true;
    }

    /// <summary>Resolved on a cache miss only: a remembered key costs the request no database context.</summary>
    LianqiaoDb Db => Context.RequestServices.GetRequiredService<LianqiaoDb>();

    AuthenticateResult Success(Guid keyId, KeyIdentity identity)
    {
        Context.Items[typeof(ApiKey)] = keyId;
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    async Task<KeyIdentity?> BuildIdentityAsync(ApiKey key)
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
        return new KeyIdentity(claims);
    }
}

/// <summary>
/// An API key's identity, built once when the key is resolved and shared by every request it signs in while remembered
/// (<see cref="ApiKeyAuthenticationHandler.CacheFor"/>), each request with a principal of its own; its caller is read
/// from the claims once. Building both per request (cloned claims, the role set) was a visible part of a gateway call's
/// allocations (bench/gateway/README.md). Nothing in the platform adds claims to an identity after sign-in (no claims
/// transformation), which is what makes sharing it safe.
/// </summary>
internal sealed class KeyIdentity(IEnumerable<Claim> claims) : ClaimsIdentity(claims, ApiKeyAuthenticationHandler.SchemeName, ClaimTypes.Name, ClaimTypes.Role)
{
    Caller? caller;

    public Caller Caller => caller ??= Organizations.Caller.FromClaims(new ClaimsPrincipal(this))!;
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
