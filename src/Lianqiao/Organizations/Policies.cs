using Microsoft.AspNetCore.Authorization;

namespace Lianqiao.Organizations;

/// <summary>
/// The named policies every endpoint picks from. The fallback policy denies anything that names none,
/// so a new endpoint is closed until someone decides who may call it.
/// </summary>
public static class Policies
{
    /// <summary>Any signed-in user, application or developer.</summary>
    public const string SignedIn = "signed-in";
    /// <summary>People and systems of the departments; not auditors (who read the audit log and nothing else) nor developers.</summary>
    public const string Member = "member";
    public const string PlatformAdmin = "platform-admin";
    public const string Auditor = "auditor";

    static readonly string[] MemberRoles = [Roles.PlatformAdmin, Roles.Steward, Roles.Approver, Roles.Consumer];

    public static void Add(AuthorizationOptions o)
    {
        o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireAssertion(_ => false).Build();
        o.AddPolicy(SignedIn, p => p.RequireAuthenticatedUser());
        o.AddPolicy(Member, p => p.RequireAssertion(c => Caller.From(c.User) is { } caller
            && (caller.Kind == PrincipalKind.Application || (caller.Kind == PrincipalKind.User && caller.Roles.Overlaps(MemberRoles)))));
        o.AddPolicy(PlatformAdmin, p => p.RequireAssertion(c => Caller.From(c.User)?.IsAdmin == true));
        o.AddPolicy(Auditor, p => p.RequireAssertion(c => Caller.From(c.User)?.Is(Roles.Auditor) == true));
    }
}
