namespace Lianqiao.Domain.Query;

/// <summary>
/// The tree of a <c>$where</c> filter. Columns are names to be checked against a <see cref="QuerySchema"/>;
/// literals are values that only ever travel as SQL parameters. And/Or are n-ary, so a long chain
/// of conditions is wide rather than deep.
/// </summary>
public abstract record FilterExpr(int Position);

public sealed record AndExpr(IReadOnlyList<FilterExpr> Terms) : FilterExpr(Terms[0].Position);

public sealed record OrExpr(IReadOnlyList<FilterExpr> Terms) : FilterExpr(Terms[0].Position);

public sealed record NotExpr(FilterExpr Inner, int At) : FilterExpr(At);

public sealed record ComparisonExpr(ColumnRef Column, ComparisonOperator Operator, Literal Value) : FilterExpr(Column.Position);

public sealed record InExpr(ColumnRef Column, IReadOnlyList<Literal> Values, bool Negated) : FilterExpr(Column.Position);

/// <summary><c>%</c> and <c>_</c> are wildcards, <c>\</c> escapes them.</summary>
public sealed record LikeExpr(ColumnRef Column, Literal Pattern, bool Negated) : FilterExpr(Column.Position);

public sealed record IsNullExpr(ColumnRef Column, bool Negated) : FilterExpr(Column.Position);

public enum ComparisonOperator { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual }

public sealed record ColumnRef(string Name, int Position);

public enum LiteralKind { String, Number, Boolean, Null }

/// <summary>A literal as written: <see cref="Text"/> is the unescaped string, the number's digits, "true"/"false" or "null".</summary>
public sealed record Literal(LiteralKind Kind, string Text, int Position);

public sealed record OrderTerm(ColumnRef Column, bool Descending);

/// <summary>Bounds that keep a hostile query cheap to reject.</summary>
public sealed record QueryLimits
{
    public static readonly QueryLimits Default = new();

    public int MaxLength { get; init; } = 4000;
    /// <summary>Parentheses and NOTs nested inside one another.</summary>
    public int MaxDepth { get; init; } = 16;
    /// <summary>Comparisons, IN, LIKE and IS NULL conditions in one filter.</summary>
    public int MaxConditions { get; init; } = 200;
    public int MaxInValues { get; init; } = 1000;
    public int MaxColumns { get; init; } = 500;
}

/// <summary>One thing wrong with a query, where it is (0-based character offset) and why, in Chinese and English.</summary>
public sealed record QueryError(string Code, int Position, string MessageZh, string MessageEn)
{
    public override string ToString() => $"{MessageZh} / {MessageEn}";
}

public sealed class QueryException : Exception
{
    public QueryException(IReadOnlyList<QueryError> errors)
        : base(string.Join("; ", errors.Select(e => e.ToString())))
    {
        Errors = errors;
    }

    public QueryException(QueryError error) : this([error]) { }

    public QueryException() : this(new QueryError("invalid", 0, "查询无效", "Invalid query.")) { }

    public QueryException(string message) : this(new QueryError("invalid", 0, message, message)) { }

    public QueryException(string message, Exception innerException) : base(message, innerException)
    {
        Errors = [new QueryError("invalid", 0, message, message)];
    }

    public IReadOnlyList<QueryError> Errors { get; }
}
