using System.Globalization;
using System.Text.RegularExpressions;

namespace Lianqiao.Domain.Query;

public enum ColumnType { Text, Integer, Decimal, Boolean, Date, DateTime }

/// <summary>
/// A column a caller may name. <see cref="Filterable"/> is false for a field the caller receives
/// masked: filtering or sorting on it would let the real values be recovered by bisection.
/// </summary>
public sealed record QueryColumn(string Name, string DbName, ColumnType Type = ColumnType.Text, bool Filterable = true);

/// <summary>The only columns a query may mention: the ones the grant exposes, by the names the caller uses.</summary>
public sealed class QuerySchema
{
    readonly Dictionary<string, QueryColumn> columns;

    public QuerySchema(IEnumerable<QueryColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        this.columns = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<QueryColumn> Columns => columns.Values;

    public QueryColumn? Find(string name) => columns.GetValueOrDefault(name);
}

/// <summary>
/// Checks a parsed query against a schema and reports every error at once: unknown columns,
/// masked columns in a filter or a sort, values that do not fit the column's type.
/// </summary>
public static partial class QueryValidator
{
    /// <summary>ISO 8601 only: "01/02/2026" means different days to different people.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();

    public static IReadOnlyList<QueryError> Validate(QuerySchema schema, FilterExpr? where = null,
        IReadOnlyList<ColumnRef>? select = null, IReadOnlyList<OrderTerm>? order = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var errors = new List<QueryError>();
        foreach (var column in select ?? []) Resolve(schema, column, errors, "select");
        foreach (var term in order ?? []) Resolve(schema, term.Column, errors, "order");
        if (where is not null) Check(schema, where, errors);
        return errors;
    }

    static void Check(QuerySchema schema, FilterExpr expr, List<QueryError> errors)
    {
        switch (expr)
        {
            case AndExpr and:
                foreach (var term in and.Terms) Check(schema, term, errors);
                break;
            case OrExpr or:
                foreach (var term in or.Terms) Check(schema, term, errors);
                break;
            case NotExpr not:
                Check(schema, not.Inner, errors);
                break;
            case ComparisonExpr c when Resolve(schema, c.Column, errors, "where") is { } column:
                if (c.Value.Kind == LiteralKind.Null)
                    errors.Add(new("null-comparison", c.Value.Position, $"与 NULL 比较请用 {c.Column.Name} IS NULL", $"compare with NULL using {c.Column.Name} IS NULL"));
                else if (c.Operator is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual) && column.Type == ColumnType.Boolean)
                    errors.Add(new("bad-operator", c.Column.Position, $"布尔字段 {column.Name} 只能用 = 或 !=", $"boolean column {column.Name} takes only = or !="));
                else
                    Convert(column, c.Value, errors);
                break;
            case InExpr i when Resolve(schema, i.Column, errors, "where") is { } column:
                foreach (var value in i.Values)
                {
                    if (value.Kind == LiteralKind.Null)
                        errors.Add(new("null-in-list", value.Position, "IN 列表中不能有 NULL，请用 IS NULL", "NULL cannot be in an IN list; use IS NULL"));
                    else
                        Convert(column, value, errors);
                }
                break;
            case LikeExpr l when Resolve(schema, l.Column, errors, "where") is { } column:
                if (column.Type != ColumnType.Text)
                    errors.Add(new("like-needs-text", l.Column.Position, $"LIKE 只能用于文本字段，{column.Name} 不是", $"LIKE works on text columns only; {column.Name} is {column.Type}"));
                break;
            case IsNullExpr n:
                Resolve(schema, n.Column, errors, "where");
                break;
        }
    }

    static QueryColumn? Resolve(QuerySchema schema, ColumnRef reference, List<QueryError> errors, string clause)
    {
        var column = schema.Find(reference.Name);
        if (column is null)
        {
            errors.Add(new("unknown-column", reference.Position, $"字段 {reference.Name} 不存在或未授权", $"column {reference.Name} does not exist or is not granted"));
            return null;
        }
        if (clause != "select" && !column.Filterable)
        {
            errors.Add(clause == "order"
                ? new("masked-column", reference.Position, $"字段 {column.Name} 已脱敏，不能排序", $"column {column.Name} is masked and cannot be sorted on")
                : new("masked-column", reference.Position, $"字段 {column.Name} 已脱敏，不能筛选", $"column {column.Name} is masked and cannot be filtered on"));
            return null;
        }
        return column;
    }

    /// <summary>The parameter value a literal becomes for a column of this type, or an error.</summary>
    internal static object? Convert(QueryColumn column, Literal literal, List<QueryError>? errors)
    {
        object? value = (column.Type, literal.Kind) switch
        {
            (_, LiteralKind.Null) => null,
            (ColumnType.Text, LiteralKind.String or LiteralKind.Number) => literal.Text,
            (ColumnType.Integer, LiteralKind.Number) when long.TryParse(literal.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
            (ColumnType.Decimal, LiteralKind.Number) when decimal.TryParse(literal.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            (ColumnType.Boolean, LiteralKind.Boolean) => literal.Text == "true",
            (ColumnType.Date, LiteralKind.String) when DateOnly.TryParseExact(literal.Text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) => date,
            (ColumnType.DateTime, LiteralKind.String) when IsoInstant().IsMatch(literal.Text) && DateTimeOffset.TryParse(literal.Text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant) => instant.ToUniversalTime(),
            _ => Invalid,
        };
        if (ReferenceEquals(value, Invalid))
        {
            var expected = column.Type switch
            {
                ColumnType.Text => ("文本（'…'）", "text ('…')"),
                ColumnType.Integer => ("整数", "an integer"),
                ColumnType.Decimal => ("数字", "a number"),
                ColumnType.Boolean => ("TRUE 或 FALSE", "TRUE or FALSE"),
                ColumnType.Date => ("日期 'yyyy-MM-dd'", "a date 'yyyy-MM-dd'"),
                _ => ("时间 'yyyy-MM-ddTHH:mm:ssZ'", "an instant 'yyyy-MM-ddTHH:mm:ssZ'"),
            };
            errors?.Add(new("bad-value", literal.Position, $"字段 {column.Name} 的值应为{expected.Item1}", $"column {column.Name} takes {expected.Item2}"));
            return null;
        }
        return value;
    }

    static readonly object Invalid = new();
}
