using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
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
    /// <summary>Form posts (feedback, developer registration and sign-in links) per hour per IP address, pages and API alike.</summary>
    public int FormPostsPerHour { get; set; } = 20;
    /// <summary>Rows a JSON page of the open API returns at most; exports stream everything.</summary>
    public int MaxJsonRows { get; set; } = 10_000;
    public int KeyLifetimeDays { get; set; } = 365;
    public int ConditionalGrantDays { get; set; } = 365;
    public MailOptions Mail { get; set; } = new();
}

public sealed class MailOptions
{
    /// <summary>"sink" (kept in the database, shown at /open/dev/mail; demo and test) or "smtp" (sent through Host:Port).</summary>
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
    public const string FormRateLimit = "open-forms";
    public const string DeveloperPolicy = "open-developer";

    public static IServiceCollection AddOpenData(this IServiceCollection services)
    {
        services.AddOptions<OpenDataOptions>().BindConfiguration("Lianqiao:OpenData")
            .Validate(o => o.DeveloperCallsPerDay > 0 && o.AnonymousPerMinute > 0 && o.FormPostsPerHour > 0 && o.MaxJsonRows > 0 && o.Mail.Mode is "sink" or "smtp"
                && (o.Mail.Mode != "smtp" || !string.IsNullOrWhiteSpace(o.Mail.Host) && o.Mail.Port is > 0 and < 65536 && System.Net.Mail.MailAddress.TryCreate(o.Mail.From, out _)),
                "Lianqiao:OpenData has invalid values").ValidateOnStart();
        services.AddScoped<OpenCatalog>();
        services.AddSingleton<OpenCounterBuffer>();
        services.AddHostedService(sp => sp.GetRequiredService<OpenCounterBuffer>());
        services.AddScoped<DeveloperAccounts>();
        services.AddScoped<OpenReads>();
        services.AddScoped<OpenWorkflow>();
        services.AddScoped<IMailSender>(sp => sp.GetRequiredService<IOptions<OpenDataOptions>>().Value.Mail.Mode == "smtp"
            ? ActivatorUtilities.CreateInstance<SmtpMailSender>(sp)
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
        services.AddRateLimiter(o =>
        {
            // The public forms write to the database and send mail: a much tighter window per address, on posts only
            // (reading the form page stays free). Applied to the pages ([EnableRateLimiting]) and their API twins.
            o.AddPolicy(FormRateLimit, http =>
            {
                if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
                var perHour = http.RequestServices.GetRequiredService<IOptions<OpenDataOptions>>().Value.FormPostsPerHour;
                return RateLimitPartition.GetFixedWindowLimiter("form:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perHour, Window = TimeSpan.FromHours(1), QueueLimit = 0 });
            });
            o.OnRejected = (context, ct) => TooManyRequests.WriteAsync(context, ct);
        });
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
        var reset = Reference.ChinaTime.StartOf(quota.Today().AddDays(1));
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        // One statement takes the call and returns today's use, so Remaining needs no second read.
        if (await quota.ConsumeAsync(keyId, 1, limit, http.RequestAborted) is not { } used)
        {
            headers["X-RateLimit-Remaining"] = "0";
            headers.RetryAfter = ((long)Math.Ceiling((reset - time.GetUtcNow()).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Errors.Problems.Of(429, "quota-exceeded", "今日调用次数已用完",
                $"This key's quota of {limit} calls per day is used up; it resets at midnight China time.");
        }
        headers["X-RateLimit-Remaining"] = Math.Max(0, limit - used).ToString(CultureInfo.InvariantCulture);
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

/// <summary>
/// What every rate limiter's refusal looks like (the one place the limiter's rejection is written): 429 with
/// Retry-After when the limiter knows it; a readable page for a browser's form post or page, RFC 9457 for everyone else.
/// </summary>
internal static class TooManyRequests
{
    public static async ValueTask WriteAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (long)Math.Ceiling(after.TotalSeconds) : (long?)null;
        if (retry is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var path = http.Request.Path.Value ?? "";
        var isApi = path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/open/api/", StringComparison.Ordinal);
        if (!isApi && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal) || !isApi && http.Request.HasFormContentType)
        {
            var wait = retry is { } s ? $"{Math.Max(1, (s + 59) / 60)}" : "";
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync($"""
                <!DOCTYPE html>
                <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>请求过于频繁 · Too many requests</title></head>
                <body><main>
                <h1 id="too-many">请求过于频繁</h1>
                <p>为防止滥用，同一网络地址提交表单的次数有限。{(wait.Length > 0 ? $"请约 {wait} 分钟后再试。" : "请稍后再试。")}您填写的内容未被保存。</p>
                <p lang="en">Too many requests from your network address. {(wait.Length > 0 ? $"Please try again in about {wait} minutes." : "Please try again later.")} What you entered was not saved.</p>
                <p><a href="/open">返回开放平台首页 / Back to the open data portal</a></p>
                </main></body></html>
                """, ct);
            return;
        }
        await Errors.Problems.Of(429, "rate-limited", "请求过于频繁，请稍后再试",
            "Too many requests from this caller; wait for the time in Retry-After and try again.").ExecuteAsync(http);
    }
}
