namespace Lianqiao.Domain.Query;

/// <summary>
/// Recursive-descent parsers for the data API's <c>$where</c>, <c>$select</c> and <c>$order</c>.
/// <code>
/// filter    := or
/// or        := and ("OR" and)*
/// and       := not ("AND" not)*
/// not       := "NOT" not | "(" or ")" | condition
/// condition := column ( op literal | ["NOT"] "IN" "(" literal ("," literal)* ")" | ["NOT"] "LIKE" string | "IS" ["NOT"] "NULL" )
/// op        := "=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;="
/// literal   := 'string' | number | "TRUE" | "FALSE" | "NULL"
/// select    := column ("," column)*
/// order     := column ["ASC" | "DESC"] ("," column ["ASC" | "DESC"])*
/// </code>
/// Keywords are case-insensitive; a column is a word (letters, digits, _, Han characters) or "quoted".
/// Throws <see cref="QueryException"/> with the position of the first error.
/// </summary>
public static class QueryParser
{
    public static FilterExpr ParseWhere(string text, QueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(QueryLexer.Tokenize(text, limits ?? QueryLimits.Default), limits ?? QueryLimits.Default);
        if (parser.AtEnd) throw QueryLexer.Error("empty", 0, "筛选条件为空", "the filter is empty");
        var expr = parser.Or();
        parser.ExpectEnd();
        return expr;
    }

    public static IReadOnlyList<ColumnRef> ParseSelect(string text, QueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var l = limits ?? QueryLimits.Default;
        var parser = new Parser(QueryLexer.Tokenize(text, l), l);
        var columns = new List<ColumnRef>();
        do
        {
            columns.Add(parser.Column());
            if (columns.Count > l.MaxColumns) throw QueryLexer.Error("too-many-columns", columns[^1].Position, $"字段过多（最多 {l.MaxColumns} 个）", $"more than {l.MaxColumns} columns");
        }
        while (parser.TryComma());
        parser.ExpectEnd();
        return columns;
    }

    public static IReadOnlyList<OrderTerm> ParseOrder(string text, QueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var l = limits ?? QueryLimits.Default;
        var parser = new Parser(QueryLexer.Tokenize(text, l), l);
        var terms = new List<OrderTerm>();
        do
        {
            var column = parser.Column();
            terms.Add(new OrderTerm(column, parser.TryDirection()));
            if (terms.Count > l.MaxColumns) throw QueryLexer.Error("too-many-columns", column.Position, $"排序字段过多（最多 {l.MaxColumns} 个）", $"more than {l.MaxColumns} sort columns");
        }
        while (parser.TryComma());
        parser.ExpectEnd();
        return terms;
    }

    sealed class Parser(List<Token> tokens, QueryLimits limits)
    {
        int index;
        int depth;
        int conditions;

        Token Current => tokens[index];
        public bool AtEnd => Current.Kind == TokenKind.End;

        Token Next() => tokens[index++];

        public void ExpectEnd()
        {
            if (!AtEnd) throw Unexpected("应为结束", "expected the end of the query");
        }

        public bool TryComma()
        {
            if (Current.Kind != TokenKind.Comma) return false;
            index++;
            return true;
        }

        public bool TryDirection()
        {
            if (Current.IsKeyword("DESC")) { index++; return true; }
            if (Current.IsKeyword("ASC")) index++;
            return false;
        }

        public FilterExpr Or()
        {
            var terms = new List<FilterExpr> { And() };
            while (Current.IsKeyword("OR"))
            {
                index++;
                terms.Add(And());
            }
            return terms.Count == 1 ? terms[0] : new OrExpr(terms);
        }

        FilterExpr And()
        {
            var terms = new List<FilterExpr> { Not() };
            while (Current.IsKeyword("AND"))
            {
                index++;
                terms.Add(Not());
            }
            return terms.Count == 1 ? terms[0] : new AndExpr(terms);
        }

        FilterExpr Not()
        {
            var token = Current;
            if (token.IsKeyword("NOT"))
            {
                index++;
                Enter(token);
                var inner = Not();
                depth--;
                return new NotExpr(inner, token.Position);
            }
            if (token.Kind == TokenKind.LeftParen)
            {
                index++;
                Enter(token);
                var inner = Or();
                depth--;
                if (Current.Kind != TokenKind.RightParen)
                    throw Unexpected($"缺少与第 {token.Position + 1} 个字符处左括号匹配的右括号", $"expected ')' to close the '(' at {token.Position + 1}");
                index++;
                return inner;
            }
            return Condition();
        }

        void Enter(Token token)
        {
            // Bounded nesting keeps parsing, validation and the database's own parser cheap.
            if (++depth > limits.MaxDepth)
                throw QueryLexer.Error("too-deep", token.Position, $"嵌套过深（最多 {limits.MaxDepth} 层）", $"the filter is nested more than {limits.MaxDepth} levels deep");
        }

        FilterExpr Condition()
        {
            var column = Column();
            if (++conditions > limits.MaxConditions)
                throw QueryLexer.Error("too-many-conditions", column.Position, $"条件过多（最多 {limits.MaxConditions} 个）", $"more than {limits.MaxConditions} conditions");
            var token = Next();
            if (token.Kind == TokenKind.Operator) return new ComparisonExpr(column, OperatorOf(token.Text), Value());
            if (token.IsKeyword("IS"))
            {
                var negated = Current.IsKeyword("NOT");
                if (negated) index++;
                if (!Current.IsKeyword("NULL")) throw Unexpected("IS 之后应为 NULL 或 NOT NULL", "expected NULL or NOT NULL after IS");
                index++;
                return new IsNullExpr(column, negated);
            }
            var not = token.IsKeyword("NOT");
            if (not) token = Next();
            if (token.IsKeyword("IN")) return In(column, not);
            if (token.IsKeyword("LIKE"))
            {
                var pattern = Value();
                if (pattern.Kind != LiteralKind.String)
                    throw QueryLexer.Error("like-needs-string", pattern.Position, "LIKE 之后应为字符串", "LIKE takes a quoted string pattern");
                return new LikeExpr(column, pattern, not);
            }
            index--;
            throw Unexpected($"字段 {column.Name} 之后应为比较运算符、IN、LIKE 或 IS", $"expected a comparison, IN, LIKE or IS after column {column.Name}");
        }

        InExpr In(ColumnRef column, bool negated)
        {
            if (Current.Kind != TokenKind.LeftParen) throw Unexpected("IN 之后应为 (", "expected '(' after IN");
            index++;
            var values = new List<Literal>();
            do
            {
                values.Add(Value());
                if (values.Count > limits.MaxInValues)
                    throw QueryLexer.Error("too-many-values", values[^1].Position, $"IN 列表过长（最多 {limits.MaxInValues} 个）", $"more than {limits.MaxInValues} values in IN");
            }
            while (TryComma());
            if (Current.Kind != TokenKind.RightParen) throw Unexpected("IN 列表应以 ) 结束", "expected ')' to end the IN list");
            index++;
            return new InExpr(column, values, negated);
        }

        public ColumnRef Column()
        {
            var token = Current;
            if (token.Kind != TokenKind.Identifier) throw Unexpected("应为字段名", "expected a column name");
            index++;
            return new ColumnRef(token.Text, token.Position);
        }

        Literal Value()
        {
            var token = Current;
            Literal? literal = token.Kind switch
            {
                TokenKind.String => new Literal(LiteralKind.String, token.Text, token.Position),
                TokenKind.Number => new Literal(LiteralKind.Number, token.Text, token.Position),
                TokenKind.Keyword when token.Text is "TRUE" or "FALSE" => new Literal(LiteralKind.Boolean, token.Text.ToLowerInvariant(), token.Position),
                TokenKind.Keyword when token.Text == "NULL" => new Literal(LiteralKind.Null, "null", token.Position),
                _ => null,
            };
            if (literal is null)
            {
                throw token.Kind == TokenKind.Identifier
                    ? QueryLexer.Error("expected-value", token.Position,
                        $"第 {token.Position + 1} 个字符处应为值：字符串请加英文单引号（'{token.Text}'），字段之间不能比较",
                        $"expected a value at {token.Position + 1}: quote strings ('{token.Text}'); columns cannot be compared with columns")
                    : Unexpected("应为值（字符串、数字、TRUE、FALSE 或 NULL）", "expected a value (a 'string', a number, TRUE, FALSE or NULL)");
            }
            index++;
            return literal;
        }

        static ComparisonOperator OperatorOf(string op) => op switch
        {
            "=" => ComparisonOperator.Equal,
            "!=" or "<>" => ComparisonOperator.NotEqual,
            "<" => ComparisonOperator.Less,
            "<=" => ComparisonOperator.LessOrEqual,
            ">" => ComparisonOperator.Greater,
            _ => ComparisonOperator.GreaterOrEqual,
        };

        QueryException Unexpected(string zh, string en)
        {
            var token = Current;
            var found = token.Kind == TokenKind.End ? "查询结尾" : $"「{token.Text}」";
            var foundEn = token.Kind == TokenKind.End ? "the end of the query" : $"'{token.Text}'";
            return QueryLexer.Error("syntax", token.Position, $"第 {token.Position + 1} 个字符处{zh}，实际是{found}", $"{en} at {token.Position + 1}, found {foundEn}");
        }
    }
}
