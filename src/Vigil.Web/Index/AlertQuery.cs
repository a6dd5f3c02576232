using System.Globalization;
using System.Text;

namespace Vigil.Web.Index;

/// <summary>
/// The alert search language, close to the dashboards Wazuh users know (DQL plus the filter pills' wording):
/// <list type="bullet">
/// <item><c>rule.id: 100201</c>, <c>rule.id: is 100201</c>, <c>rule.id: is one of 553,100092,87105,100201</c>,
/// <c>rule.id: (553 or 100092)</c></item>
/// <item><c>AND</c>, <c>OR</c>, <c>NOT</c> (any case), parentheses; terms side by side are ANDed</item>
/// <item>wildcards <c>*</c> and <c>?</c> in values: <c>syscheck.path: /root/*</c> (case-insensitive)</item>
/// <item>ranges on numbers and time: <c>rule.level &gt;= 10</c>, <c>timestamp &lt; 2026-11-28T10:00:00Z</c></item>
/// <item><c>field: *</c> — the field exists; free text (a word or a "quoted phrase") anywhere in the alert</item>
/// <item>nested fields by their dotted path: <c>data.virustotal.source.file: "/root/eicar.com"</c>; array fields
/// (<c>rule.groups</c>, <c>rule.pci_dss</c>, <c>rule.mitre.id</c>) match when any element does</item>
/// </list>
/// Errors are <see cref="QueryException"/>s with the position, never anything else.
/// </summary>
internal abstract record AlertQuery
{
    public static readonly AlertQuery All = new MatchAll();

    /// <summary>Parses <paramref name="text"/>; null, empty or blank matches every alert.</summary>
    public static AlertQuery Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return All;
        }

        if (text.Length > MaxLength)
        {
            throw new QueryException($"the query is longer than {MaxLength} characters", MaxLength);
        }

        return new Parser(text).ParseQuery();
    }

    public const int MaxLength = 4096;

    internal sealed record MatchAll : AlertQuery;

    internal sealed record And(AlertQuery Left, AlertQuery Right) : AlertQuery;

    internal sealed record Or(AlertQuery Left, AlertQuery Right) : AlertQuery;

    internal sealed record Not(AlertQuery Inner) : AlertQuery;

    /// <summary><c>field: v1</c> or <c>field: is one of v1,v2</c>: the field equals (or, with wildcards, is like) any value.</summary>
    internal sealed record FieldMatch(string Field, IReadOnlyList<string> Values) : AlertQuery;

    internal sealed record FieldExists(string Field) : AlertQuery;

    internal sealed record FieldRange(string Field, string Operator, string Value) : AlertQuery;

    internal sealed record FreeText(string Text) : AlertQuery;

    private enum TokenKind
    {
        Word,
        Quoted,
        Colon,
        Comma,
        Open,
        Close,
        Compare,
        End,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Position)
    {
        public bool IsKeyword(string keyword) => Kind == TokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
    }

    private static readonly System.Text.RegularExpressions.Regex s_timePrefix =
        new(@"^\d{4}-\d\d-\d\dT\d\d(:\d\d)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private sealed class Parser
    {
        private readonly List<Token> _tokens;
        private int _next;

        public Parser(string text) => _tokens = Tokenize(text);

        private Token Peek(int ahead = 0) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];

        private Token Take() => _tokens[Math.Min(_next++, _tokens.Count - 1)];

        public AlertQuery ParseQuery()
        {
            var query = ParseOr();
            var rest = Peek();
            if (rest.Kind != TokenKind.End)
            {
                throw new QueryException(rest.Kind == TokenKind.Close
                    ? $"unbalanced ')' at position {rest.Position + 1}"
                    : $"unexpected '{rest.Text}' at position {rest.Position + 1}", rest.Position);
            }

            return query;
        }

        private AlertQuery ParseOr()
        {
            var left = ParseAnd();
            while (Peek().IsKeyword("or"))
            {
                Take();
                left = new Or(left, ParseAnd());
            }

            return left;
        }

        private AlertQuery ParseAnd()
        {
            var left = ParseNot();
            while (true)
            {
                var next = Peek();
                if (next.IsKeyword("and"))
                {
                    Take();
                    left = new And(left, ParseNot());
                }
                else if (next.Kind is TokenKind.Word or TokenKind.Quoted or TokenKind.Open && !next.IsKeyword("or"))
                {
                    left = new And(left, ParseNot()); // terms side by side
                }
                else
                {
                    return left;
                }
            }
        }

        private AlertQuery ParseNot()
        {
            if (Peek().IsKeyword("not"))
            {
                Take();
                return new Not(ParseNot());
            }

            return ParsePrimary();
        }

        private AlertQuery ParsePrimary()
        {
            var token = Take();
            switch (token.Kind)
            {
                case TokenKind.Open:
                    var inner = ParseOr();
                    Expect(TokenKind.Close, "')'", token);
                    return inner;
                case TokenKind.Quoted:
                    return new FreeText(token.Text);
                case TokenKind.Word when token.IsKeyword("and") || token.IsKeyword("or"):
                    throw new QueryException($"'{token.Text}' at position {token.Position + 1} needs a term before it", token.Position);
                case TokenKind.Word:
                    var after = Peek();
                    if (after.Kind == TokenKind.Colon)
                    {
                        Take();
                        return ParseFieldValue(CheckField(token));
                    }

                    if (after.Kind == TokenKind.Compare)
                    {
                        Take();
                        var value = Take();
                        if (value.Kind is not (TokenKind.Word or TokenKind.Quoted))
                        {
                            throw new QueryException($"'{after.Text}' at position {after.Position + 1} needs a value after it", after.Position);
                        }

                        return new FieldRange(CheckField(token), after.Text, value.Text);
                    }

                    return new FreeText(token.Text);
                case TokenKind.End:
                    throw new QueryException("the query ends where a term was expected", token.Position);
                default:
                    throw new QueryException($"unexpected '{token.Text}' at position {token.Position + 1}", token.Position);
            }
        }

        private AlertQuery ParseFieldValue(string field)
        {
            var first = Peek();
            if (first.IsKeyword("is") && Peek(1).IsKeyword("one") && Peek(2).IsKeyword("of"))
            {
                _next += 3;
                return new FieldMatch(field, ParseList(first));
            }

            if (first.IsKeyword("is") && Peek(1).Kind is TokenKind.Word or TokenKind.Quoted && !Peek(1).IsKeyword("and") && !Peek(1).IsKeyword("or"))
            {
                Take();
            }

            var value = Take();
            switch (value.Kind)
            {
                case TokenKind.Word when value.Text == "*":
                    return new FieldExists(field);
                case TokenKind.Word or TokenKind.Quoted:
                    return new FieldMatch(field, [value.Text]);
                case TokenKind.Open:
                    // field: (a or b or c)
                    var values = new List<string>();
                    while (true)
                    {
                        var item = Take();
                        if (item.Kind is not (TokenKind.Word or TokenKind.Quoted))
                        {
                            throw new QueryException($"a value was expected at position {item.Position + 1} in the list for {field}", item.Position);
                        }

                        values.Add(item.Text);
                        var separator = Take();
                        if (separator.Kind == TokenKind.Close)
                        {
                            return new FieldMatch(field, values);
                        }

                        if (!separator.IsKeyword("or") && separator.Kind != TokenKind.Comma)
                        {
                            throw new QueryException($"'or' or ')' was expected at position {separator.Position + 1} in the list for {field}", separator.Position);
                        }
                    }

                default:
                    throw new QueryException($"{field}: needs a value (position {value.Position + 1})", value.Position);
            }
        }

        private List<string> ParseList(Token start)
        {
            var values = new List<string>();
            while (true)
            {
                var item = Take();
                if (item.Kind is not (TokenKind.Word or TokenKind.Quoted))
                {
                    throw new QueryException($"'is one of' at position {start.Position + 1} needs a comma-separated list of values", item.Position);
                }

                values.Add(item.Text);
                if (Peek().Kind != TokenKind.Comma)
                {
                    return values;
                }

                Take();
            }
        }

        private void Expect(TokenKind kind, string what, Token opener)
        {
            var token = Take();
            if (token.Kind != kind)
            {
                throw new QueryException($"{what} expected to close the '(' at position {opener.Position + 1}", token.Position);
            }
        }

        private static string CheckField(Token token)
        {
            foreach (var c in token.Text)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
                {
                    throw new QueryException($"'{token.Text}' at position {token.Position + 1} is not a field name", token.Position);
                }
            }

            if (token.Text.StartsWith('.') || token.Text.EndsWith('.') || token.Text.Contains("..", StringComparison.Ordinal))
            {
                throw new QueryException($"'{token.Text}' at position {token.Position + 1} is not a field name", token.Position);
            }

            return token.Text;
        }

        private static List<Token> Tokenize(string text)
        {
            var tokens = new List<Token>();
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                    continue;
                }

                switch (c)
                {
                    case ':':
                        tokens.Add(new Token(TokenKind.Colon, ":", i++));
                        continue;
                    case ',':
                        tokens.Add(new Token(TokenKind.Comma, ",", i++));
                        continue;
                    case '(':
                        tokens.Add(new Token(TokenKind.Open, "(", i++));
                        continue;
                    case ')':
                        tokens.Add(new Token(TokenKind.Close, ")", i++));
                        continue;
                    case '<' or '>':
                        var op = i + 1 < text.Length && text[i + 1] == '=' ? text.Substring(i, 2) : text.Substring(i, 1);
                        tokens.Add(new Token(TokenKind.Compare, op, i));
                        i += op.Length;
                        continue;
                    case '"':
                        var start = i++;
                        var builder = new StringBuilder();
                        while (true)
                        {
                            if (i >= text.Length)
                            {
                                throw new QueryException($"the quote at position {start + 1} is not closed", start);
                            }

                            if (text[i] == '\\' && i + 1 < text.Length)
                            {
                                builder.Append(text[i + 1]);
                                i += 2;
                                continue;
                            }

                            if (text[i] == '"')
                            {
                                i++;
                                break;
                            }

                            builder.Append(text[i++]);
                        }

                        tokens.Add(new Token(TokenKind.Quoted, builder.ToString(), start));
                        continue;
                    default:
                        var wordStart = i;
                        while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not (',' or '(' or ')' or '"' or '<' or '>'))
                        {
                            // A colon ends a field name, except inside a time such as 2026-11-28T10:00:00Z.
                            if (text[i] == ':' && !s_timePrefix.IsMatch(text.AsSpan(wordStart, i - wordStart)))
                            {
                                break;
                            }

                            i++;
                        }

                        tokens.Add(new Token(TokenKind.Word, text[wordStart..i], wordStart));
                        continue;
                }
            }

            tokens.Add(new Token(TokenKind.End, "", text.Length));
            return tokens;
        }
    }

    /// <summary>True when the value holds a wildcard (<c>*</c> or <c>?</c>).</summary>
    internal static bool HasWildcard(string value) => value.AsSpan().IndexOfAny('*', '?') >= 0;

    internal static string InvariantString(long value) => value.ToString(CultureInfo.InvariantCulture);
}
