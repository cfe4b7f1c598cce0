using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Components;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Errors;
using Lianqiao.Exchange;
using Lianqiao.Gateway;
using Lianqiao.Jobs;
using Lianqiao.OpenData;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Lianqiao.Seeding;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Scalar.AspNetCore;

namespace Lianqiao.Hosting;

/// <summary>Composes the one host: every module's services and endpoints, nothing else.</summary>
public static class LianqiaoApp
{
    public const long JsonBodyLimit = 1024 * 1024;

    public static WebApplication Build(HostSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        Directory.CreateDirectory(settings.DataDirectory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = settings.EnvironmentName ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production",
        });
        builder.WebHost.UseUrls(settings.Urls);
        // Logs go to stderr: stdout carries what commands print for scripts (a key, a password, the URL).
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<KeyFolder>();
        services.AddLianqiaoDb(settings);
        services.AddDataProtection().SetApplicationName("Lianqiao").PersistKeysToDbContext<LianqiaoDb>();
        // Pages and JSON carry Chinese as characters, not as numeric entities or \u escapes.
        services.AddSingleton(HtmlEncoder.Create(UnicodeRanges.All));
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Customize);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddOpenApi();
        services.AddRazorComponents();
        services.AddLocalization();
        services.AddHealthChecks();

        services.AddOrganizations();
        services.AddAudit();
        services.AddAuditLedger(builder.Configuration);
        services.AddReference();
        services.AddJobs(builder.Configuration);
        services.AddSharing();
        services.AddCatalog();
        services.AddDatasets(builder.Configuration);
        services.AddGateway();
        services.AddOpenData();
        services.AddExchange(builder.Configuration);
        services.AddSingleton<SeedRunner>();

        configure?.Invoke(builder);
        var app = builder.Build();

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(SecurityHeaders);
        // Gateway calls leave here: the page middlewares below (localization, static files, rate limiter, antiforgery) do nothing for them.
        app.MapWhen(GatewayApi.IsGatewayCall, gateway => gateway.UseGatewayCalls());
        app.UseRequestLocalization(o =>
        {
            string[] cultures = ["zh-CN", "en"];
            o.SetDefaultCulture("zh-CN").AddSupportedCultures(cultures).AddSupportedUICultures(cultures);
            o.RequestCultureProviders = [new QueryStringRequestCultureProvider(), new CookieRequestCultureProvider()];
        });
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapGet("/healthz", Health).AllowAnonymous().WithTags("Health");
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        app.MapGet("/lang/{culture}", (string culture, string? returnUrl, HttpContext http) =>
        {
            var c = culture == "en" ? "en" : "zh-CN";
            http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(c)), new CookieOptions { SameSite = SameSiteMode.Lax, HttpOnly = true });
            return Results.LocalRedirect(returnUrl is { Length: > 0 } r && r[0] == '/' && !r.StartsWith("//", StringComparison.Ordinal) ? r : "/");
        }).AllowAnonymous().ExcludeFromDescription();

        var api = app.MapGroup("").WithMetadata(new RequestSizeLimitAttribute(JsonBodyLimit));
        api.MapOrganizations();
        api.MapAuditApi();
        api.MapReferenceApi();
        api.MapJobsApi();
        api.MapSharing();
        api.MapCatalog();
        api.MapDatasets();
        api.MapGateway();
        api.MapOpenData();
        api.MapExchange();

        app.MapRazorComponents<App>();
        return app;
    }

    static async Task<IResult> Health(LianqiaoDb db, CancellationToken ct)
    {
        try
        {
            if (await db.Database.CanConnectAsync(ct)) return TypedResults.Ok(new { status = "ok", database = db.IsPostgres ? "postgresql" : "sqlite" });
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException)
        {
            // Reported as 503 below.
        }
        return Problems.Of(StatusCodes.Status503ServiceUnavailable, "database-unavailable", "数据库不可用", "The database cannot be reached.");
    }

    static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var h = context.Response.Headers;
        h.XContentTypeOptions = "nosniff";
        h["Referrer-Policy"] = "same-origin";
        h.XFrameOptions = "DENY";
        return next();
    }

    /// <summary>
    /// Brings the database to a state this build can serve: migrates an empty one, refuses one that is
    /// newer (or older: that needs an explicit `lianqiao migrate`), creates the admin, applies seed steps.
    /// </summary>
    public static async Task<StartupReport> PrepareAsync(WebApplication app, bool demo, CancellationToken ct = default,
        Func<ISeedStep, bool>? onlySeedSteps = null)
    {
        var settings = app.Services.GetRequiredService<HostSettings>();
        var schema = app.Services.GetRequiredService<DatabaseSchema>();
        var (state, unknown) = await schema.InspectAsync(ct);
        switch (state)
        {
            case SchemaState.Newer:
                throw new StartupRefusedException($"数据库版本比本程序新，拒绝启动 / The database was migrated by a newer Lianqiao ({string.Join(", ", unknown)}); upgrade Lianqiao first.");
            case SchemaState.Older:
                throw new StartupRefusedException("数据库需要升级：请先运行 lianqiao migrate / The database is older than this build; run `lianqiao migrate` first (after a backup).");
            case SchemaState.Empty:
                await schema.MigrateAsync(ct);
                break;
        }

        CreatedAccount? admin;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            admin = await scope.ServiceProvider.GetRequiredService<AccountService>().EnsureAdminAsync();
        }
        var seeded = await app.Services.GetRequiredService<SeedRunner>().RunAsync(settings.DataDirectory, demo, ct, onlySeedSteps);
        if (seeded.Credentials.Count > 0) await WriteDemoAccountsAsync(settings.DataDirectory, seeded.Credentials, ct);
        return new StartupReport(admin, seeded.Credentials);
    }

    /// <summary>Appends to DATA/demo-accounts.txt, readable by its owner only.</summary>
    static async Task WriteDemoAccountsAsync(string dataDirectory, IReadOnlyList<string> lines, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, "demo-accounts.txt");
        if (!File.Exists(path))
        {
            await File.WriteAllTextAsync(path, "# kind\tname\tsecret\tnote — demo only; every secret is random\n", ct);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.AppendAllLinesAsync(path, lines, ct);
    }
}

public sealed record StartupReport(CreatedAccount? Admin, IReadOnlyList<string> DemoCredentials);

public sealed class StartupRefusedException(string message) : Exception(message);

internal static class FoundationModules
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddSingleton<GroupCommitAuditLog>();
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<GroupCommitAuditLog>());
        services.AddHostedService(sp => sp.GetRequiredService<GroupCommitAuditLog>());
        return services;
    }

    public static IServiceCollection AddReference(this IServiceCollection services)
    {
        services.AddScoped<WorkingCalendar>();
        services.AddTransient<ISeedStep, ReferenceSeed>();
        return services;
    }

    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<JobOptions>(configuration.GetSection("Lianqiao:Jobs"));
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        return services;
    }
}
