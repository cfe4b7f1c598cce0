using Lianqiao.Jobs;

namespace Lianqiao.Exchange;

internal static class ExchangeModule
{
    public static IServiceCollection AddExchange(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ExchangeOptions>(configuration.GetSection("Lianqiao:Exchange"));
        services.AddSingleton<ConnectionOpener>();
        services.AddSingleton<ExchangeRunner>();
        services.AddScoped<CollectionRunner>();
        services.AddScoped<DeliveryRunner>();
        services.AddSingleton<IScheduledJob, ExchangeScheduleJob>();
        services.AddSingleton<IScheduledJob, ExchangeDemoActivity>();
        services.AddTransient<Seeding.ISeedStep, ExchangeDemoSeed>();
        return services;
    }

    public static void MapExchange(this IEndpointRouteBuilder routes) => routes.MapExchangeApi();
}
