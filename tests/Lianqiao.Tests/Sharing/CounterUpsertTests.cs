using Lianqiao.Data;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Sharing;

/// <summary>The one-statement counters (quota and exchange volume) on the real database, each adder with its own connection.</summary>
public sealed class CounterUpsertTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    [Fact]
    public async Task Quota_takes_exactly_up_to_the_limit_under_concurrency_and_gives_back()
    {
        var grantId = Guid.NewGuid();
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            server.InScopeAsync(sp => sp.GetRequiredService<QuotaCounter>().ConsumeAsync(grantId, 1, 10, default))));
        Assert.Equal(10, results.Count(r => r is not null));
        // Every take saw a distinct count: 1..10, none lost, none twice.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long?)i), results.Where(r => r is not null).Order());
        Assert.Equal(0, await RemainingAsync(grantId, 10));

        // A refused take changes nothing; a negative amount gives back; an amount over the limit never creates a row.
        Assert.Null(await ConsumeAsync(grantId, 1, 10));
        Assert.Equal(7, await ConsumeAsync(grantId, -3, null));
        Assert.Equal(3, await RemainingAsync(grantId, 10));
        Assert.Equal(10, await ConsumeAsync(grantId, 3, 10));
        var fresh = Guid.NewGuid();
        Assert.Null(await ConsumeAsync(fresh, 11, 10));
        Assert.False(await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<QuotaUsage>().AnyAsync(q => q.GrantId == fresh)));
        // Unlimited still counts.
        Assert.Equal(5, await ConsumeAsync(fresh, 5, null));
    }

    [Fact]
    public async Task Exchange_counter_adds_every_concurrent_exchange_into_one_row()
    {
        var resourceId = "counter-" + Guid.NewGuid().ToString("N")[..8];
        var day = new DateOnly(2026, 11, 28);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => server.InScopeAsync(async sp =>
        {
            // What each node's statistics flush does for one key.
            await CounterUpsert.AddAsync(sp.GetRequiredService<LianqiaoDb>(),
                new ExchangeCounter { Day = day, ProviderDepartmentId = server.OwnDepartmentId, ConsumerDepartmentId = server.OtherDepartmentId, ResourceId = resourceId, Calls = 1, Rows = i, Bytes = 100 },
                [nameof(ExchangeCounter.Calls), nameof(ExchangeCounter.Rows), nameof(ExchangeCounter.Bytes)], ceiling: null, default);
            return 0;
        })));
        var row = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeCounter>().AsNoTracking()
            .SingleAsync(c => c.ResourceId == resourceId && c.Day == day && c.ProviderDepartmentId == server.OwnDepartmentId));
        Assert.Equal(20, row.Calls);
        Assert.Equal(Enumerable.Range(0, 20).Sum(), row.Rows);
        Assert.Equal(2000, row.Bytes);
        Assert.Equal(server.OtherDepartmentId, row.ConsumerDepartmentId);
    }

    Task<long?> ConsumeAsync(Guid grantId, long amount, long? limit) =>
        server.InScopeAsync(sp => sp.GetRequiredService<QuotaCounter>().ConsumeAsync(grantId, amount, limit, default));

    async Task<long> RemainingAsync(Guid grantId, long limit) =>
        (await server.InScopeAsync(sp => sp.GetRequiredService<QuotaCounter>().RemainingAsync(grantId, limit, default)))!.Value;
}
