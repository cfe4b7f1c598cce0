using Lianqiao.Data;
using Lianqiao.Gateway;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lianqiao.Tests.Gateway;

/// <summary>Route values for the authorization matrix: a registered service per department, a fresh allow-list entry.</summary>
internal static class GatewayMatrix
{
    public static async Task<string> ServiceAsync(LianqiaoServer server, Guid departmentId)
    {
        var id = "matrix-gw-" + departmentId.ToString("N");
        await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            if (await db.Set<GatewayService>().AnyAsync(s => s.ResourceId == id)) return 0;
            db.Add(new GatewayService
            {
                ResourceId = id, DepartmentId = departmentId, Name = id, Upstreams = ["http://192.0.2.1/"], Methods = ["GET"], PathPrefixes = ["/"],
                Version = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        return id;
    }

    public static Task<Guid> AllowEntryAsync(LianqiaoServer server) => server.InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<LianqiaoDb>();
        var entry = new UpstreamAllowEntry { Pattern = $"matrix-{Guid.NewGuid():N}.example", CreatedAt = DateTimeOffset.UtcNow };
        db.Add(entry);
        await db.SaveChangesAsync();
        return entry.Id;
    });
}
