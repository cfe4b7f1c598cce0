using System.Security.Claims;

namespace Lianqiao.Organizations;

/// <summary>Who is calling, whatever way they authenticated (cookie or key), in the terms the modules decide on.</summary>
public sealed record Caller(PrincipalKind Kind, string Id, string Name, Guid? DepartmentId, IReadOnlySet<string> Roles)
{
    public const string KindClaim = "lq:kind";
    public const string DepartmentClaim = "lq:dept";

    public bool IsAdmin => Kind == PrincipalKind.User && Roles.Contains(Organizations.Roles.PlatformAdmin);
    public bool Is(string role) => Kind == PrincipalKind.User && Roles.Contains(role);

    /// <summary>An admin, or a user with <paramref name="role"/> in <paramref name="departmentId"/>.</summary>
    public bool ActsFor(Guid departmentId, string role) => IsAdmin || (Is(role) && DepartmentId == departmentId);

    /// <summary>The caller a principal's claims describe; an API key's is read once per resolved key (<see cref="KeyIdentity"/>).</summary>
    public static Caller? From(ClaimsPrincipal principal) => principal.Identity is KeyIdentity key ? key.Caller : FromClaims(principal);

    internal static Caller? FromClaims(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true) return null;
        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        if (id is null) return null;
        var kind = Enum.TryParse<PrincipalKind>(principal.FindFirstValue(KindClaim), out var k) ? k : PrincipalKind.User;
        var dept = Guid.TryParse(principal.FindFirstValue(DepartmentClaim), out var d) ? d : (Guid?)null;
        var roles = principal.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new Caller(kind, id, principal.Identity.Name ?? id, dept, roles);
    }
}

internal static class CallerExtensions
{
    /// <summary>Endpoints behind an authorization policy always have a caller.</summary>
    public static Caller Caller(this ClaimsPrincipal principal) =>
        Organizations.Caller.From(principal) ?? throw new InvalidOperationException("Endpoint reached without an authenticated caller.");
}
