using System.Text;
using Lianqiao.Data;
using Lianqiao.Datasets.Files;
using Lianqiao.Datasets.Loading;
using Lianqiao.Datasets.Storage;
using Lianqiao.Jobs;
using Lianqiao.Quality;

namespace Lianqiao.Datasets;

internal static class DatasetsModule
{
    public static IServiceCollection AddDatasets(this IServiceCollection services, IConfiguration configuration)
    {
        // GB18030/GBK uploads; the provider ships with .NET, only the registration is needed.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        services.Configure<QuarantineOptions>(configuration.GetSection("Lianqiao:Quarantine"));
        services.AddSingleton<DatasetStore>();
        services.AddSingleton<DatasetLoader>();
        // The seam (docs/architecture.md, Datasets): schemas registered here first, then the catalog's published resources.
        services.AddSingleton<RegisteredSchemaSource>();
        services.AddSingleton<CatalogSchemaSource>();
        services.AddSingleton<ITableSchemaSource, CompositeSchemaSource>();
        services.AddScoped<TimelinessService>();
        services.AddScoped<SchemaRegistry>();
        services.AddSingleton<IScheduledJob, TimelinessJob>();
        services.AddSingleton<IScheduledJob, QuarantinePurgeJob>();
        services.AddSingleton<IScheduledJob, StaleLoadsJob>();
        services.AddHostedService<LoadRecoveryOnStart>();
        services.AddTransient<Seeding.ISeedStep, DatasetsDemoSeed>();
        services.AddSingleton<StagedUploads>();
        services.AddSingleton<BackgroundLoads>();
        services.AddSingleton<Files.FileStore>();
        services.AddScoped<Files.FileResources>();
        services.AddTransient<Seeding.ISeedStep, Files.FilesDemoSeed>();
        services.AddSingleton<IScheduledJob, Files.FileSweepJob>();
        return services;
    }

    public static void MapDatasets(this IEndpointRouteBuilder routes)
    {
        routes.MapDatasetsApi();
        routes.MapFilesApi();
        routes.MapFilePages();
        routes.MapDatasetPages();
    }
}

/// <summary>On start, loads this machine left running when a process died are failed at once (their rows were never committed).</summary>
internal sealed class LoadRecoveryOnStart(IServiceScopeFactory scopes, TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await DatasetLoader.RecoverAsync(scope.ServiceProvider.GetRequiredService<LianqiaoDb>(), time, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
