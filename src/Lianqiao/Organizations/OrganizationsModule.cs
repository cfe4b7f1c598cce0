using Lianqiao.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Lianqiao.Organizations;

internal static class OrganizationsModule
{
    const string SmartScheme = "Lianqiao";

    public static IServiceCollection AddOrganizations(this IServiceCollection services)
    {
        services.AddIdentity<User, IdentityRole>(o =>
            {
                o.Password.RequiredLength = 12;
                o.Password.RequireNonAlphanumeric = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.User.RequireUniqueEmail = false;
            })
            .AddEntityFrameworkStores<LianqiaoDb>()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<LianqiaoClaimsFactory>();

        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/login";
            o.Cookie.Name = "lianqiao.auth";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            // API callers get a status and a problem body, not a redirect to a page.
            o.Events.OnRedirectToLogin = c => ApiAware(c, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = c => ApiAware(c, StatusCodes.Status403Forbidden);
        });

        // One default scheme: a request with an Authorization header is judged by its key, anything else by the cookie.
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = SmartScheme;
                o.DefaultAuthenticateScheme = SmartScheme;
                o.DefaultChallengeScheme = SmartScheme;
                o.DefaultForbidScheme = SmartScheme;
            })
            .AddPolicyScheme(SmartScheme, "Cookie or API key", o => o.ForwardDefaultSelector = c =>
                ApiKeyAuthenticationHandler.ReadKey(c.Request) is null ? IdentityConstants.ApplicationScheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);

        services.AddAuthorization(Policies.Add);
        services.AddMemoryCache();
        services.AddScoped<KeyService>();
        services.AddScoped<AccountService>();
        services.AddTransient<Seeding.ISeedStep, Seeding.OrganizationsDemoSeed>();
        return services;
    }

    static Task ApiAware(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> c, int status)
    {
        if (c.Request.Path.StartsWithSegments("/api") || c.Request.Path.StartsWithSegments("/gateway"))
        {
            c.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        c.Response.Redirect(c.RedirectUri);
        return Task.CompletedTask;
    }

    public static void MapOrganizations(this IEndpointRouteBuilder routes)
    {
        routes.MapOrganizationsApi();
        routes.MapAccountEndpoints();
    }
}
