namespace Lianqiao.Sharing;

internal static class SharingModule
{
    public static IServiceCollection AddSharing(this IServiceCollection services)
    {
        services.AddScoped<GrantService>();
        services.AddScoped<QuotaCounter>();
        return services;
    }

    public static void MapSharing(this IEndpointRouteBuilder routes) => routes.MapGrantsApi();
}
