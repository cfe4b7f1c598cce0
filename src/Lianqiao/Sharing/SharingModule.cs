namespace Lianqiao.Sharing;

internal static class SharingModule
{
    public const string VerifyRateLimit = "verify";

    public static IServiceCollection AddSharing(this IServiceCollection services)
    {
        // The verification API is an oracle: a strict sliding window per calling principal (per node; see docs/architecture.md).
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(VerifyRateLimit, http => System.Threading.RateLimiting.RateLimitPartition.GetSlidingWindowLimiter(
                Organizations.Caller.From(http.User)?.Id ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
                _ => new System.Threading.RateLimiting.SlidingWindowRateLimiterOptions
                {
                    PermitLimit = 30, Window = TimeSpan.FromMinutes(1), SegmentsPerWindow = 6, QueueLimit = 0,
                }));
        });
        services.AddScoped<GrantService>();
        services.AddScoped<QuotaCounter>();
        services.AddSingleton<Masking.MaskingService>();
        services.AddSingleton<ExchangeCounterBuffer>();
        services.AddHostedService(sp => sp.GetRequiredService<ExchangeCounterBuffer>());
        services.AddOptions<SharingOptions>().BindConfiguration("Lianqiao:Sharing")
            .Validate(o => o.ApprovalWorkingDays is > 0 and < 100 && o.DefaultValidDays > 0, "Lianqiao:Sharing has invalid values").ValidateOnStart();
        services.AddSingleton<Jobs.IScheduledJob, OverdueApprovalsJob>();
        return services;
    }

    public static void MapSharing(this IEndpointRouteBuilder routes)
    {
        routes.MapGrantsApi();
        routes.MapShareRequestsApi();
        routes.MapDemandsApi();
        routes.MapDataApi();
        routes.MapObjectionsApi();
    }
}
