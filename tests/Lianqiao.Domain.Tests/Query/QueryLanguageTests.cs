using Lianqiao.Domain.Query;

namespace Lianqiao.Domain.Tests.Query;

public class QueryLanguageTests
{
    static readonly QuerySchema Schema = new([
        new QueryColumn("name", "xm"),
        new QueryColumn("age", "nl", ColumnType.Integer),
        new QueryColumn("income", "sr", ColumnType.Decimal),
        new QueryColumn("active", "zt", ColumnType.Boolean),
        new QueryColumn("born", "csrq", ColumnType.Date),
        new QueryColumn("updated", "gxsj", ColumnType.DateTime),
        new QueryColumn("区划", "qh"),
        new QueryColumn("id_number", "sfzh", Filterable: false),
        new QueryColumn("odd", "we\"ird"),
    ]);

    static SqlFragment Where(string filter, PlaceholderStyle style = PlaceholderStyle.AtNamed) =>
        new SqlRenderer(Schema, style).Where(QueryParser.ParseWhere(filter));

    static QueryError ParseError(string filter) => Assert.Single(Assert.Throws<QueryException>(() => QueryParser.ParseWhere(filter)).Errors);

    static QueryError RenderError(string filter) => Assert.Throws<QueryException>(() => Where(filter)).Errors[0];

    [Fact]
    public void Comparisons_become_quoted_columns_and_parameters()
    {
        var sql = Where("age >= 18 AND name = '段誉'");
        Assert.Equal("(\"nl\" >= @p0) AND (\"xm\" = @p1)", sql.Sql);
        Assert.Equal([18L, "段誉"], sql.Values);
        Assert.Equal(["p0", "p1"], sql.Names);
    }

    [Fact]
    public void And_binds_tighter_than_or_and_not_applies_to_the_next_condition()
    {
        var sql = Where("name = 'a' OR age < 3 and NOT active = true");
        Assert.Equal("(\"xm\" = @p0) OR ((\"nl\" < @p1) AND (NOT (\"zt\" = @p2)))", sql.Sql);
        Assert.Equal(["a", 3L, true], sql.Values);
    }

    [Fact]
    public void Parentheses_override_precedence()
    {
        var sql = Where("(name = 'a' OR name = 'b') AND age <> 3");
        Assert.Equal("((\"xm\" = @p0) OR (\"xm\" = @p1)) AND (\"nl\" <> @p2)", sql.Sql);
    }

    [Fact]
    public void In_like_and_is_null()
    {
        var sql = Where("age IN (1, 2, 3) AND name NOT LIKE '段%' AND born IS NOT NULL AND updated IS NULL AND 区划 not in ('110108')");
        Assert.Equal("(\"nl\" IN (@p0, @p1, @p2)) AND (\"xm\" NOT LIKE @p3 ESCAPE '\\') AND (\"csrq\" IS NOT NULL) AND (\"gxsj\" IS NULL) AND (\"qh\" NOT IN (@p4))", sql.Sql);
        Assert.Equal([1L, 2L, 3L, "段%", "110108"], sql.Values);
    }

    [Fact]
    public void Literals_take_the_column_type()
    {
        var sql = Where("born = '1990-01-01' AND updated > '2026-01-01T08:00:00+08:00' AND income < -1.5e2 AND active != false AND name = 42");
        Assert.Equal(new DateOnly(1990, 1, 1), sql.Values[0]);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), sql.Values[1]);
        Assert.Equal(TimeSpan.Zero, ((DateTimeOffset)sql.Values[1]!).Offset);
        Assert.Equal(-150m, sql.Values[2]);
        Assert.Equal(false, sql.Values[3]);
        Assert.Equal("42", sql.Values[4]);
    }

    [Theory]
    [InlineData("updated > '01/02/2026'")]
    [InlineData("updated > 'yesterday'")]
    [InlineData("born = '2026-02-30'")]
    [InlineData("born = '2026-1-5'")]
    public void Dates_and_instants_are_iso_8601_only(string filter) =>
        Assert.Equal("bad-value", RenderError(filter).Code);

    [Fact]
    public void A_zero_width_character_is_named_by_its_code_point() =>
        Assert.Contains("U+200B", ParseError("name\u200B = 'a'").MessageEn);

    [Fact]
    public void Doubled_quotes_escape_a_quote_and_backslash_stays_literal()
    {
        var sql = Where("name = 'O''Brien' OR name LIKE '100\\%'");
        Assert.Equal(["O'Brien", "100\\%"], sql.Values);
    }

    [Fact]
    public void Positional_placeholders_continue_from_an_offset()
    {
        var renderer = new SqlRenderer(Schema, PlaceholderStyle.DollarNumbered, firstParameter: 2);
        var sql = renderer.Where(QueryParser.ParseWhere("age = 1 or age = 2"));
        Assert.Equal("(\"nl\" = $3) OR (\"nl\" = $4)", sql.Sql);
        Assert.Equal(["", ""], sql.Names);
        Assert.Equal(4, renderer.NextParameter);
    }

    [Fact]
    public void Keywords_are_case_insensitive_and_columns_are_not()
    {
        Assert.IsType<OrExpr>(QueryParser.ParseWhere("age = 1 oR age = 2"));
        Assert.Equal("unknown-column", RenderError("AGE = 1").Code);
    }

    [Fact]
    public void Select_and_order_quote_only_known_columns()
    {
        var renderer = new SqlRenderer(Schema);
        Assert.Equal("\"xm\", \"sfzh\", \"we\"\"ird\"", renderer.Select(QueryParser.ParseSelect("name, id_number, \"odd\"")));
        Assert.Equal("\"nl\" DESC NULLS LAST, \"xm\" ASC NULLS LAST, \"qh\" ASC NULLS LAST", renderer.OrderBy(QueryParser.ParseOrder("age desc, name ASC, 区划")));
    }

    [Fact]
    public void Masked_columns_can_be_selected_but_not_filtered_or_sorted()
    {
        var renderer = new SqlRenderer(Schema);
        var filter = Assert.Throws<QueryException>(() => renderer.Where(QueryParser.ParseWhere("id_number LIKE '4401%'")));
        Assert.Equal("masked-column", Assert.Single(filter.Errors).Code);
        var isNull = Assert.Throws<QueryException>(() => renderer.Where(QueryParser.ParseWhere("NOT id_number IS NULL")));
        Assert.Equal("masked-column", Assert.Single(isNull.Errors).Code);
        var order = Assert.Throws<QueryException>(() => renderer.OrderBy(QueryParser.ParseOrder("id_number")));
        Assert.Contains("cannot be sorted", Assert.Single(order.Errors).MessageEn);
    }

    [Fact]
    public void Every_validation_error_is_reported_at_once()
    {
        var errors = QueryValidator.Validate(Schema, QueryParser.ParseWhere("nope = 1 AND age = 'x' AND active > true AND born LIKE '1%' AND name = NULL AND age IN (1, NULL)"));
        Assert.Equal(["unknown-column", "bad-value", "bad-operator", "like-needs-text", "null-comparison", "null-in-list"], errors.Select(e => e.Code));
        Assert.Equal(0, errors[0].Position);
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.MessageZh + e.MessageEn)));
    }

    [Theory]
    [InlineData("name = 'x'; DROP TABLE people", "semicolon", 10)]
    [InlineData("name = 'x' -- and the rest", "comment", 11)]
    [InlineData("name = 'x' /* hidden */", "comment", 11)]
    [InlineData("name = ‘x’", "bad-quote", 7)]
    [InlineData("name = “x”", "bad-quote", 7)]
    [InlineData("name = 'x", "unterminated-string", 7)]
    [InlineData("name = x", "expected-value", 7)]
    [InlineData("name = 'a' OR", "syntax", 13)]
    [InlineData("(name = 'a'", "syntax", 11)]
    [InlineData("name 'a'", "syntax", 5)]
    [InlineData("name = 'a')", "syntax", 10)]
    [InlineData("age IN ()", "syntax", 8)]
    [InlineData("name LIKE 5", "like-needs-string", 10)]
    [InlineData("age = 1x", "bad-number", 6)]
    [InlineData("age = 1e999999", "bad-number", 6)]
    [InlineData("", "empty", 0)]
    [InlineData("name = 'a\u0000b'", "control-character", 9)]
    [InlineData("name = 'a' UNION SELECT 1", "syntax", 11)]
    [InlineData("name IS 'a'", "syntax", 8)]
    [InlineData("name = 'a' || 'b'", "unexpected-character", 11)]
    [InlineData("（name = 'a')", "full-width", 0)]
    [InlineData("age ＝ 1", "full-width", 4)]
    [InlineData("age IN (1，2)", "full-width", 9)]
    [InlineData("name = \uFF07a\uFF07", "bad-quote", 7)]
    [InlineData("name\u200B = 'a'", "unexpected-character", 4)]
    public void Malformed_filters_fail_with_a_position_and_both_languages(string filter, string code, int position)
    {
        var error = ParseError(filter);
        Assert.Equal(code, error.Code);
        Assert.Equal(position, error.Position);
        Assert.False(string.IsNullOrWhiteSpace(error.MessageZh));
        Assert.False(string.IsNullOrWhiteSpace(error.MessageEn));
    }

    [Theory]
    [InlineData("name = 'x''; DROP TABLE people; --'")]
    [InlineData("name = '1'' OR ''1''=''1'")]
    [InlineData("name LIKE '%'' OR 1=1 --'")]
    [InlineData("name IN ('a''); DELETE FROM t; --', 'b')")]
    [InlineData("name = '\" OR \"\"=\"'")]
    [InlineData("name = '/* */ -- ;'")]
    public void Injection_inside_a_string_stays_a_parameter_value(string filter)
    {
        var sql = Where(filter);
        Assert.DoesNotContain("DROP", sql.Sql, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("DELETE", sql.Sql, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("--", sql.Sql);
        Assert.DoesNotContain(";", sql.Sql);
        Assert.DoesNotContain("1=1", sql.Sql);
        Assert.Matches("^[\\(\\)\"a-z@p0-9 ,=A-Z'\\\\]*$", sql.Sql);
        Assert.Contains(sql.Values, v => v is string s && (s.Contains('\'') || s.Contains('"') || s.Contains("--")));
    }

    [Theory]
    [InlineData("\"xm\"\" = 1; DROP TABLE t; --\" = 'a'")]
    [InlineData("\"name; DROP TABLE t\" = 'a'")]
    [InlineData("sqlite_master = 'a'")]
    [InlineData("\"nl\" = 1")]
    public void Column_names_outside_the_schema_are_refused(string filter)
    {
        var errors = QueryValidator.Validate(Schema, QueryParser.ParseWhere(filter));
        Assert.Equal("unknown-column", Assert.Single(errors).Code);
    }

    [Fact]
    public void A_database_name_is_quoted_even_if_it_holds_a_quote()
    {
        Assert.Equal("\"a\"\"b\"", SqlRenderer.Quote("a\"b"));
        Assert.Equal("(\"we\"\"ird\" = @p0)", "(" + Where("odd = 'v'").Sql + ")");
    }

    [Fact]
    public void A_parenthesis_bomb_is_refused_before_it_costs_anything()
    {
        var bomb = new string('(', 5000) + "age = 1" + new string(')', 5000);
        Assert.Equal("too-long", ParseError(bomb).Code);

        var deep = new string('(', 17) + "age = 1" + new string(')', 17);
        var error = ParseError(deep);
        Assert.Equal("too-deep", error.Code);
        Assert.Equal(16, error.Position);

        var notBomb = string.Concat(Enumerable.Repeat("NOT ", 17)) + "age = 1";
        Assert.Equal("too-deep", ParseError(notBomb).Code);

        Assert.IsType<ComparisonExpr>(QueryParser.ParseWhere(new string('(', 16) + "age = 1" + new string(')', 16)));
    }

    [Fact]
    public void Long_chains_are_wide_not_deep_and_bounded()
    {
        var chain = string.Join(" AND ", Enumerable.Range(0, 200).Select(i => $"age <> {i}"));
        var and = Assert.IsType<AndExpr>(QueryParser.ParseWhere(chain));
        Assert.Equal(200, and.Terms.Count);
        Assert.Equal("too-many-conditions", ParseError(chain + " AND age <> 1").Code);

        var list = "age IN (" + string.Join(",", Enumerable.Range(0, 1001)) + ")";
        Assert.Equal("too-many-values", ParseError(list).Code);
    }

    [Fact]
    public void Limits_are_configurable()
    {
        var limits = new QueryLimits { MaxLength = 10, MaxDepth = 1 };
        Assert.Equal("too-long", Assert.Single(Assert.Throws<QueryException>(() => QueryParser.ParseWhere("name = 'abcdef'", limits)).Errors).Code);
        Assert.Equal("too-deep", Assert.Single(Assert.Throws<QueryException>(() => QueryParser.ParseWhere("((age=1))", limits)).Errors).Code);
    }

    [Theory]
    [InlineData("name,", "syntax")]
    [InlineData("name; drop", "semicolon")]
    [InlineData("name age", "syntax")]
    [InlineData("*", "unexpected-character")]
    public void Select_lists_are_plain_column_lists(string select, string code) =>
        Assert.Equal(code, Assert.Single(Assert.Throws<QueryException>(() => QueryParser.ParseSelect(select)).Errors).Code);

    [Theory]
    [InlineData("age descending", "syntax")]
    [InlineData("age desc desc", "syntax")]
    [InlineData("age, -- x", "comment")]
    [InlineData("1", "syntax")]
    public void Order_lists_take_a_direction_at_most(string order, string code) =>
        Assert.Equal(code, Assert.Single(Assert.Throws<QueryException>(() => QueryParser.ParseOrder(order)).Errors).Code);

    [Fact]
    public void Han_column_names_and_full_width_spaces_are_words_and_blanks()
    {
        var sql = Where("区划\u3000=\u3000'110108'");
        Assert.Equal("\"qh\" = @p0", sql.Sql);
    }
}
