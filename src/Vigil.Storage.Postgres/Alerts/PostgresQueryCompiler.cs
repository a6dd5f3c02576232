using System.Globalization;
using System.Text;
using Vigil.Web.Index;

namespace Vigil.Storage.Postgres.Alerts;

/// <summary>
/// Turns an <see cref="AlertQuery"/> into a PostgreSQL condition over the shared alerts table, with the meaning the
/// SQLite index gives it: fields with a column of their own use it and its index; any other field is read from the
/// alert's JSON by its dotted path, an array matching when any element does; wildcards are case-insensitive
/// (ILIKE, as SQLite's LIKE is); values are always parameters (<c>@p0</c>, <c>@p1</c>, …).
/// </summary>
internal sealed class PostgresQueryCompiler(StringBuilder sql, List<object> parameters)
{
    private enum Column
    {
        Json,
        Integer,
        Text,
        Time,
        Groups,
    }

    private static readonly Dictionary<string, (string Sql, Column Kind)> s_columns = new(StringComparer.Ordinal)
    {
        ["rule.id"] = ("rule_id", Column.Integer),
        ["rule.level"] = ("level", Column.Integer),
        ["agent.id"] = ("agent_id", Column.Text),
        ["agent.name"] = ("agent_name", Column.Text),
        ["rule.description"] = ("description", Column.Text),
        ["rule.groups"] = ("groups", Column.Groups),
        ["file"] = ("file", Column.Text),
        ["id"] = ("alert_id", Column.Text),
        ["timestamp"] = ("ts", Column.Time),
    };

    public void Compile(AlertQuery query)
    {
        switch (query)
        {
            case AlertQuery.MatchAll:
                sql.Append("TRUE");
                break;
            case AlertQuery.And and:
                Binary(and.Left, "AND", and.Right);
                break;
            case AlertQuery.Or or:
                Binary(or.Left, "OR", or.Right);
                break;
            case AlertQuery.Not not:
                sql.Append("NOT (");
                Compile(not.Inner);
                sql.Append(')');
                break;
            case AlertQuery.FreeText text:
                sql.Append("json ILIKE ").Append(Parameter("%" + EscapeLike(text.Text) + "%")).Append(" ESCAPE '\\'");
                break;
            case AlertQuery.FieldExists exists:
                CompileExists(exists.Field);
                break;
            case AlertQuery.FieldMatch match:
                CompileMatch(match);
                break;
            case AlertQuery.FieldRange range:
                CompileRange(range);
                break;
            default:
                throw new InvalidOperationException($"unknown query node {query.GetType().Name}");
        }
    }

    private void Binary(AlertQuery left, string op, AlertQuery right)
    {
        sql.Append('(');
        Compile(left);
        sql.Append(' ').Append(op).Append(' ');
        Compile(right);
        sql.Append(')');
    }

    private void CompileExists(string field)
    {
        if (s_columns.TryGetValue(field, out var column))
        {
            sql.Append(column.Kind == Column.Groups ? "cardinality(groups) > 0" : column.Sql + " IS NOT NULL");
            return;
        }

        sql.Append("(json::jsonb #> ").Append(Parameter(JsonPath(field))).Append(") IS NOT NULL");
    }

    // The values at a JSON path as text: an array's elements, or the value itself (as SQLite's json_each gives them).
    private string JsonValues(string field)
    {
        var path = Parameter(JsonPath(field));
        return $"jsonb_array_elements_text(CASE jsonb_typeof(json::jsonb #> {path}) WHEN 'array' THEN json::jsonb #> {path} ELSE jsonb_build_array(json::jsonb #> {path}) END)";
    }

    private void CompileMatch(AlertQuery.FieldMatch match)
    {
        var exact = match.Values.Where(v => !AlertQuery.HasWildcard(v)).ToList();
        var wildcards = match.Values.Where(AlertQuery.HasWildcard).ToList();
        var known = s_columns.TryGetValue(match.Field, out var column);
        sql.Append('(');
        var first = true;
        if (exact.Count > 0)
        {
            first = false;
            switch (known ? column.Kind : Column.Json)
            {
                case Column.Integer:
                    sql.Append(column.Sql).Append(" = ANY(").Append(Parameter(exact.Select(v => Integer(match.Field, v)).ToArray())).Append(')');
                    break;
                case Column.Time:
                    sql.Append(column.Sql).Append(" = ANY(").Append(Parameter(exact.Select(v => Time(match.Field, v)).ToArray())).Append(')');
                    break;
                case Column.Groups:
                    // Through the rule-id index (the rules that carried the group), then the alert's own groups.
                    var names = Parameter(exact.ToArray());
                    sql.Append("(rule_id IN (SELECT rule_id FROM alert_rule_groups WHERE name = ANY(").Append(names).Append(")) AND groups && ").Append(names).Append(')');
                    break;
                case Column.Text:
                    sql.Append(column.Sql).Append(" = ANY(").Append(Parameter(exact.ToArray())).Append(')');
                    break;
                default:
                    sql.Append("EXISTS (SELECT 1 FROM ").Append(JsonValues(match.Field)).Append(" AS v(value) WHERE value = ANY(")
                        .Append(Parameter(exact.ToArray())).Append("))");
                    break;
            }
        }

        foreach (var pattern in wildcards)
        {
            if (!first)
            {
                sql.Append(" OR ");
            }

            first = false;
            var like = Parameter(Like(pattern));
            switch (known ? column.Kind : Column.Json)
            {
                case Column.Groups:
                    sql.Append("(rule_id IN (SELECT rule_id FROM alert_rule_groups WHERE name ILIKE ").Append(like)
                        .Append(" ESCAPE '\\') AND EXISTS (SELECT 1 FROM unnest(groups) AS g(name) WHERE name ILIKE ").Append(like).Append(" ESCAPE '\\'))");
                    break;
                case Column.Integer or Column.Text:
                    sql.Append("CAST(").Append(column.Sql).Append(" AS text) ILIKE ").Append(like).Append(" ESCAPE '\\'");
                    break;
                case Column.Time:
                    throw new QueryException($"{match.Field} takes a time, not a pattern", 0);
                default:
                    sql.Append("EXISTS (SELECT 1 FROM ").Append(JsonValues(match.Field)).Append(" AS v(value) WHERE value ILIKE ").Append(like).Append(" ESCAPE '\\')");
                    break;
            }
        }

        sql.Append(')');
    }

    private void CompileRange(AlertQuery.FieldRange range)
    {
        var op = range.Operator;
        var known = s_columns.TryGetValue(range.Field, out var column);
        if (known && column.Kind is Column.Integer or Column.Time)
        {
            var value = column.Kind == Column.Integer ? Integer(range.Field, range.Value) : Time(range.Field, range.Value);
            sql.Append(column.Sql).Append(' ').Append(op).Append(' ').Append(Parameter(value));
            return;
        }

        if (known)
        {
            throw new QueryException($"{range.Field} is text; '{op}' compares numbers and times", 0);
        }

        if (!double.TryParse(range.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            throw new QueryException($"'{op}' on {range.Field} needs a number, not '{range.Value}'", 0);
        }

        // Only values that read as numbers are compared (a cast of any other text would fail the whole query).
        sql.Append("EXISTS (SELECT 1 FROM ").Append(JsonValues(range.Field))
            .Append(" AS v(value) WHERE CASE WHEN value ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' THEN value::float8 END ")
            .Append(op).Append(' ').Append(Parameter(number)).Append(')');
    }

    private string Parameter(object value)
    {
        parameters.Add(value);
        return "@p" + (parameters.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    private static long Integer(string field, string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new QueryException($"{field} is a number; '{value}' is not", 0);

    private static long Time(string field, string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds()
            : throw new QueryException($"{field} takes a time such as 2026-11-28T10:00:00Z; '{value}' is not one", 0);

    /// <summary>The path of a dotted field name, as the text array PostgreSQL's <c>#&gt;</c> takes.</summary>
    internal static string[] JsonPath(string field) => field.Split('.');

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static string Like(string pattern) => EscapeLike(pattern).Replace('*', '%').Replace('?', '_');
}
