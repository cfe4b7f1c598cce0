using System.Globalization;
using System.Text;

namespace Lianqiao.Domain.Query;

/// <summary>
/// How parameters are written: <c>@p0</c> (named; Microsoft.Data.Sqlite and Npgsql both bind it) or
/// <c>$1</c> (Npgsql's native positional form, bound as unnamed parameters in order).
/// </summary>
public enum PlaceholderStyle { AtNamed, DollarNumbered }

/// <summary>A SQL fragment and the values of its parameters, in placeholder order; <see cref="Names"/> are the names to bind (empty when positional).</summary>
public sealed record SqlFragment(string Sql, IReadOnlyList<object?> Values, IReadOnlyList<string> Names);

/// <summary>
/// Turns a validated query into SQL. The only text that comes from the caller and reaches the SQL is
/// a column's <see cref="QueryColumn.DbName"/>, taken from the schema (never from the query) and quoted;
/// every value is a parameter. Parameters continue from <paramref name="firstParameter"/>, so a fragment
/// can join others (a grant's row filter, a keyset cursor) in one command.
/// </summary>
public sealed class SqlRenderer(QuerySchema schema, PlaceholderStyle style = PlaceholderStyle.AtNamed, int firstParameter = 0)
{
    readonly List<object?> values = [];
    readonly List<string> names = [];

    /// <summary>Parameters used so far by every fragment this renderer produced.</summary>
    public int NextParameter => firstParameter + values.Count;

    /// <summary>Renders a filter; throws <see cref="QueryException"/> with every validation error.</summary>
    public SqlFragment Where(FilterExpr filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ThrowIfInvalid(QueryValidator.Validate(schema, filter));
        var start = values.Count;
        var sql = new StringBuilder();
        Render(filter, sql);
        return new SqlFragment(sql.ToString(), values[start..], names[start..]);
    }

    /// <summary>A select list: quoted column names, comma-separated.</summary>
    public string Select(IReadOnlyList<ColumnRef> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ThrowIfInvalid(QueryValidator.Validate(schema, select: columns));
        return string.Join(", ", columns.Select(c => Quote(schema.Find(c.Name)!.DbName)));
    }

    /// <summary>An ORDER BY list. NULLS LAST is explicit: SQLite and PostgreSQL disagree on the default.</summary>
    public string OrderBy(IReadOnlyList<OrderTerm> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ThrowIfInvalid(QueryValidator.Validate(schema, order: terms));
        return string.Join(", ", terms.Select(t => Quote(schema.Find(t.Column.Name)!.DbName) + (t.Descending ? " DESC" : " ASC") + " NULLS LAST"));
    }

    /// <summary>An ANSI-quoted identifier; a quote inside is doubled, so no name can close it.</summary>
    public static string Quote(string identifier)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (identifier.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException("NUL in an identifier", nameof(identifier));
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    static void ThrowIfInvalid(IReadOnlyList<QueryError> errors)
    {
        if (errors.Count > 0) throw new QueryException(errors);
    }

    void Render(FilterExpr expr, StringBuilder sql)
    {
        switch (expr)
        {
            case AndExpr and:
                Join(and.Terms, " AND ", sql);
                break;
            case OrExpr or:
                Join(or.Terms, " OR ", sql);
                break;
            case NotExpr not:
                sql.Append("NOT (");
                Render(not.Inner, sql);
                sql.Append(')');
                break;
            case ComparisonExpr c:
                sql.Append(Column(c.Column)).Append(' ').Append(Operator(c.Operator)).Append(' ').Append(Parameter(c.Column, c.Value));
                break;
            case InExpr i:
                sql.Append(Column(i.Column)).Append(i.Negated ? " NOT IN (" : " IN (");
                for (var k = 0; k < i.Values.Count; k++)
                {
                    if (k > 0) sql.Append(", ");
                    sql.Append(Parameter(i.Column, i.Values[k]));
                }
                sql.Append(')');
                break;
            case LikeExpr l:
                // The backslash escapes % and _ in both databases once ESCAPE names it.
                sql.Append(Column(l.Column)).Append(l.Negated ? " NOT LIKE " : " LIKE ").Append(Parameter(l.Column, l.Pattern)).Append(" ESCAPE '\\'");
                break;
            case IsNullExpr n:
                sql.Append(Column(n.Column)).Append(n.Negated ? " IS NOT NULL" : " IS NULL");
                break;
            default:
                throw new ArgumentException($"Unknown filter node {expr.GetType().Name}", nameof(expr));
        }
    }

    void Join(IReadOnlyList<FilterExpr> terms, string separator, StringBuilder sql)
    {
        for (var k = 0; k < terms.Count; k++)
        {
            if (k > 0) sql.Append(separator);
            sql.Append('(');
            Render(terms[k], sql);
            sql.Append(')');
        }
    }

    string Column(ColumnRef reference) => Quote(schema.Find(reference.Name)!.DbName);

    string Parameter(ColumnRef reference, Literal literal)
    {
        var value = QueryValidator.Convert(schema.Find(reference.Name)!, literal, null);
        var index = firstParameter + values.Count;
        values.Add(value);
        var (placeholder, name) = style switch
        {
            PlaceholderStyle.AtNamed => ("@p" + index.ToString(CultureInfo.InvariantCulture), "p" + index.ToString(CultureInfo.InvariantCulture)),
            _ => ("$" + (index + 1).ToString(CultureInfo.InvariantCulture), ""),
        };
        names.Add(name);
        return placeholder;
    }

    static string Operator(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "<>",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        _ => ">=",
    };
}
