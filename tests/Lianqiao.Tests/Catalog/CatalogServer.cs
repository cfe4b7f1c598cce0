using Lianqiao.Tests.Infrastructure;

namespace Lianqiao.Tests.Catalog;

/// <summary>The foundation fixture plus the catalog's code tables and its demo catalog (journey resources under fixed ids).</summary>
public sealed class CatalogServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal);
}
