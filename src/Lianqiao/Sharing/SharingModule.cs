namespace Lianqiao.Sharing;

internal static class SharingModule
{
    public static IServiceCollection AddSharing(this IServiceCollection services)
    {
        services.AddScoped<GrantService>();
        services.AddScoped<QuotaCounter>();
        services.AddSingleton<Masking.MaskingService>();
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
    }
}
