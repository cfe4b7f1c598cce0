using Lianqiao.Data;
using Npgsql;
using Xunit;

namespace Lianqiao.Tests.Foundation;

/// <summary>The platform's PostgreSQL defaults apply only where the operator's connection string is silent.</summary>
public sealed class ConnectionStringTests
{
    [Fact]
    public void Prepared_statements_and_no_reset_are_the_defaults()
    {
        var built = new NpgsqlConnectionStringBuilder(DataExtensions.PostgresConnectionString("Host=db;Database=lq;Username=u"));
        Assert.Equal(32, built.MaxAutoPrepare);
        Assert.True(built.NoResetOnClose);
        Assert.Equal("db", built.Host);
        Assert.Equal("lq", built.Database);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db;maxautoprepare=0;NORESETONCLOSE=false")]
    public void The_operators_own_settings_win(string configured)
    {
        var built = new NpgsqlConnectionStringBuilder(DataExtensions.PostgresConnectionString(configured));
        Assert.Equal(0, built.MaxAutoPrepare);
        Assert.False(built.NoResetOnClose);
    }
}
