using System.Globalization;
using System.Threading.RateLimiting;
using Lianqiao.Jobs;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Lianqiao.Sharing;
using Microsoft.Extensions.Options;

namespace Lianqiao.OpenData;

public sealed class OpenDataOptions
{
    /// <summary>API calls per developer key and day (China time).</summary>
    public long DeveloperCallsPerDay { get; set; } = 10_000;
    /// <summary>Requests per minute per IP address for anonymous callers of the open API.</summary>
    public int AnonymousPerMinute { get; set; } = 600;
    /// <summary>Rows a JSON page of the open API returns at most; exports stream everything.</summary>
    public int MaxJsonRows { get; set; } = 10_000;
    public int KeyLifetimeDays { get; set; } = 365;
    public int ConditionalGrantDays { get; set; } = 365;
    public MailOptions Mail { get; set; } = new();
}

public sealed class MailOptions
{
    /// <summary>"sink" (kept in the database, shown at /open/dev/mail) or "smtp" (not implemented yet).</summary>
    public string Mode { get; set; } = "sink";
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string? UserName { get; set; }
    public string? Password { get; set; }
    public string? From { get; set; }
    public bool UseTls { get; set; } = true;
}

internal static class OpenDataModule
{
    public const string PublicRateLimit = "open-public";
    public const string DeveloperPolicy = "open-developer";

    public static IServiceCollection AddOpenData(this IServiceCollection services)
    {
        services.AddOptions<OpenDataOptions>().BindConfiguration("Lianqiao:OpenData")
            .Validate(o => o.DeveloperCallsPerDay > 0 && o.AnonymousPerMinute > 0 && o.MaxJsonRows > 0 && o.Mail.Mode is "sink" or "smtp",
                "Lianqiao:OpenData has invalid values").ValidateOnStart();
        services.AddScoped<OpenCatalog>();
        services.AddSingleton<OpenCounterBuffer>();
        services.AddHostedService(sp => sp.GetRequiredService<OpenCounterBuffer>());
        services.AddScoped<DeveloperAccounts>();
        services.AddScoped<OpenReads>();
        services.AddScoped<OpenWorkflow>();
        services.AddScoped<IMailSender>(sp => sp.GetRequiredService<IOptions<OpenDataOptions>>().Value.Mail.Mode == "smtp"
            ? new SmtpMailSender()
            : ActivatorUtilities.CreateInstance<DatabaseMailSender>(sp));
        services.AddAuthorizationBuilder().AddPolicy(DeveloperPolicy, p => p.RequireAssertion(c => Caller.From(c.User)?.Kind == PrincipalKind.Developer));
        services.AddRateLimiter(o => o.AddPolicy(PublicRateLimit, http =>
        {
            // Developers are held by their DB-counted daily quota instead; everyone else by address.
            if (Caller.From(http.User)?.Kind == PrincipalKind.Developer) return RateLimitPartition.GetNoLimiter("developer");
            var perMinute = http.RequestServices.GetRequiredService<IOptions<OpenDataOptions>>().Value.AnonymousPerMinute;
            return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
        }));
        services.AddSingleton<IScheduledJob, OpenRateSnapshotJob>();
        services.AddTransient<ISeedStep, OpenDataDemoSeed>();
        return services;
    }

    public static void MapOpenData(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenDataApi();
        routes.MapOpenDataAdminApi();
    }

    /// <summary>
    /// Per-key daily quota for developers, counted in the database (exact across nodes), with X-RateLimit-* headers on
    /// every answer; Reset is the Unix time of the next midnight in China.
    /// </summary>
    public static async ValueTask<object?> DeveloperQuota(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Caller.From(http.User)?.Kind != PrincipalKind.Developer || http.Items[typeof(ApiKey)] is not Guid keyId) return await next(context);
        var quota = http.RequestServices.GetRequiredService<QuotaCounter>();
        var limit = http.RequestServices.GetRequiredService<IOptions<OpenDataOptions>>().Value.DeveloperCallsPerDay;
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        var tomorrow = quota.Today().AddDays(1).ToDateTime(TimeOnly.MinValue);
        var reset = new DateTimeOffset(tomorrow, TimeSpan.FromHours(8));
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        if (!await quota.TryConsumeAsync(keyId, 1, limit, http.RequestAborted))
        {
            headers["X-RateLimit-Remaining"] = "0";
            headers.RetryAfter = ((long)Math.Ceiling((reset - time.GetUtcNow()).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Errors.Problems.Of(429, "quota-exceeded", "今日调用次数已用完",
                $"This key's quota of {limit} calls per day is used up; it resets at midnight China time.");
        }
        var remaining = await quota.RemainingAsync(keyId, limit, http.RequestAborted) ?? 0;
        headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        return await next(context);
    }
}

/// <summary>The open-rate trend: one snapshot a day per scope.</summary>
internal sealed class OpenRateSnapshotJob : IScheduledJob
{
    public string Name => "open-rate-snapshot";
    public TimeSpan Interval => TimeSpan.FromHours(6);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var rows = await services.GetRequiredService<OpenCatalog>().SnapshotAsync(cancellationToken);
        return $"{rows} open-rate rows";
    }
}
