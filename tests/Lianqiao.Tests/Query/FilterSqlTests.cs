using System.Data.Common;
using Lianqiao.Domain.Query;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Lianqiao.Tests.Query;

/// <summary>The rendered filters run on the real database of this run (SQLite or PostgreSQL), with the provider's own parameter binding.</summary>
public sealed class FilterSqlTests : IAsyncLifetime
{
    static readonly QuerySchema Schema = new([
        new QueryColumn("name", "xm"),
        new QueryColumn("age", "nl", ColumnType.Integer),
        new QueryColumn("born", "csrq", ColumnType.Date),
        new QueryColumn("active", "zt", ColumnType.Boolean),
        new QueryColumn("id_number", "sfzh", Filterable: false),
    ]);

    DbConnection connection = default!;
    string? postgres;

    public async Task InitializeAsync()
    {
        if (TestDatabase.UsePostgres)
        {
            postgres = await TestDatabase.CreatePostgresDatabaseAsync();
            connection = new NpgsqlConnection(postgres);
        }
        else
        {
            connection = new SqliteConnection("Data Source=:memory:");
        }
        await connection.OpenAsync();
        var date = postgres is null ? "TEXT" : "date";
        var boolean = postgres is null ? "INTEGER" : "boolean";
        await ExecuteAsync($"CREATE TABLE people (xm TEXT, nl INTEGER, csrq {date}, zt {boolean}, sfzh TEXT)");
        await ExecuteAsync("""
            INSERT INTO people VALUES
            ('段誉', 19, '2005-03-01', TRUE, '1'), ('O''Brien', 40, '1986-07-15', FALSE, '2'),
            ('王语嫣', 18, '2006-01-09', TRUE, '3'), ('100% 纯', NULL, NULL, NULL, '4')
            """);
    }

    public async Task DisposeAsync()
    {
        await connection.DisposeAsync();
        if (postgres is not null) await TestDatabase.DropPostgresDatabaseAsync(postgres);
    }

    async Task ExecuteAsync(string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    async Task<List<string>> NamesAsync(string filter, PlaceholderStyle style = PlaceholderStyle.AtNamed)
    {
        var renderer = new SqlRenderer(Schema, style);
        var where = renderer.Where(QueryParser.ParseWhere(filter));
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT xm FROM people WHERE {where.Sql} ORDER BY {renderer.OrderBy(QueryParser.ParseOrder("name"))}";
        for (var i = 0; i < where.Values.Count; i++)
        {
            var p = command.CreateParameter();
            if (where.Names[i].Length > 0) p.ParameterName = where.Names[i];
            p.Value = where.Values[i] switch
            {
                // SQLite keeps dates as ISO text; Npgsql sends DateOnly as a date.
                DateOnly d when postgres is null => d.ToString("yyyy-MM-dd"),
                var v => v ?? DBNull.Value,
            };
            command.Parameters.Add(p);
        }
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    [Fact]
    public async Task Filters_select_the_rows_they_describe()
    {
        Assert.Equal(["段誉", "王语嫣"], (await NamesAsync("age < 20 AND active = true")).Order());
        Assert.Equal(["O'Brien"], await NamesAsync("name = 'O''Brien'"));
        Assert.Equal(["100% 纯"], await NamesAsync("age IS NULL OR name LIKE '100\\%%'"));
        Assert.Equal(["O'Brien"], await NamesAsync("born < '2000-01-01'"));
        Assert.Equal(2, (await NamesAsync("NOT (name IN ('段誉', 'O''Brien')) AND name IS NOT NULL")).Count);
    }

    [Fact]
    public async Task Injection_strings_match_nothing_and_break_nothing()
    {
        Assert.Empty(await NamesAsync("name = 'x''; DROP TABLE people; --'"));
        Assert.Empty(await NamesAsync("name = '1'' OR ''1''=''1'"));
        Assert.Equal(4, (await NamesAsync("name IS NOT NULL")).Count);
    }

    [Fact]
    public async Task Npgsql_positional_placeholders_bind_in_order()
    {
        if (postgres is null) return;   // $1 is PostgreSQL's own form
        Assert.Equal(["王语嫣"], await NamesAsync("age = 18 AND name LIKE '王%'", PlaceholderStyle.DollarNumbered));
    }
}
