using Lianqiao.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Lianqiao.Organizations;

/// <summary>Sign-in and sign-out for the pages: plain form posts with antiforgery, so they work without JavaScript.</summary>
internal static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/account/login", async ([FromForm] string? userName, [FromForm] string? password, [FromForm] string? returnUrl,
            SignInManager<User> signIn, IAuditLog audit, HttpContext http) =>
        {
            var back = IsLocal(returnUrl) ? returnUrl! : "/";
            if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password))
                return Results.Redirect($"/login?error=missing&returnUrl={Uri.EscapeDataString(back)}");
            var result = await signIn.PasswordSignInAsync(userName.Trim(), password, isPersistent: false, lockoutOnFailure: true);
            await audit.WriteAsync(new AuditEntry("auth.sign-in", result.Succeeded ? AuditOutcome.Success : AuditOutcome.Failure)
            {
                ActorKind = nameof(PrincipalKind.User),
                ActorName = userName.Trim(),
                Detail = new { lockedOut = result.IsLockedOut },
                RemoteIp = http.Connection.RemoteIpAddress?.ToString(),
                RequestId = http.TraceIdentifier,
            });
            if (result.Succeeded) return Results.LocalRedirect(back);
            var error = result.IsLockedOut ? "locked" : "invalid";
            return Results.Redirect($"/login?error={error}&returnUrl={Uri.EscapeDataString(back)}");
        }).AllowAnonymous().ExcludeFromDescription();

        routes.MapPost("/account/logout", async (SignInManager<User> signIn, IAuditLog audit, HttpContext http) =>
        {
            await audit.WriteAsync(AuditEntry.For(http, "auth.sign-out"));
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/login");
        }).RequireAuthorization(Policies.SignedIn).ExcludeFromDescription();
    }

    static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
