using Lianqiao.Data;
using Lianqiao.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>What other modules (datasets, sharing, open data, gateway) read from the catalog: published resources only.</summary>
public interface ICatalogReader
{
    /// <summary>The published (or retired) resource with its data items, by its URL-safe id; null when there is none.</summary>
    Task<ResourceDto?> FindAsync(string slug, CancellationToken cancellationToken = default);
}

internal sealed class CatalogReader(LianqiaoDb db) : ICatalogReader
{
    public async Task<ResourceDto?> FindAsync(string slug, CancellationToken cancellationToken = default)
    {
        var r = await db.Set<CatalogResource>().AsNoTracking().Include(x => x.Items)
            .FirstOrDefaultAsync(x => x.Slug == slug && x.RevisionOf == null
                && (x.Status == ResourceStatus.Published || x.Status == ResourceStatus.Retired), cancellationToken);
        if (r is null) return null;
        var name = await db.Set<Organizations.Department>().Where(d => d.Id == r.DepartmentId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken);
        return r.AsDto(name ?? "?");
    }
}

internal static class CatalogModule
{
    public static IServiceCollection AddCatalog(this IServiceCollection services)
    {
        services.AddScoped<CatalogService>();
        services.AddScoped<CatalogSearch>();
        services.AddScoped<CatalogExcel>();
        services.AddScoped<CatalogStandardExport>();
        services.AddScoped<CatalogBulkLoad>();
        services.AddScoped<ICatalogReader, CatalogReader>();
        services.AddTransient<ISeedStep, CatalogCodeTablesSeed>();
        services.AddTransient<ISeedStep, CatalogDemoSeed>();
        return services;
    }

    public static void MapCatalog(this IEndpointRouteBuilder routes)
    {
        routes.MapCatalogApi();
        routes.MapQualityRulesApi();
        routes.MapCkanApi();
        routes.MapDcatFeeds();
    }
}
