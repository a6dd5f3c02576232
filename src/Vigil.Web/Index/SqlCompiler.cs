using System.Globalization;
using System.Text;

namespace Vigil.Web.Index;

/// <summary>
/// Turns an <see cref="AlertQuery"/> into a SQL condition over the alerts table. Fields with a column of their own
/// (rule id, level, agent, description, groups, file, id, timestamp) use it and its index; any other field is read
/// from the alert's JSON by its dotted path, an array matching when any element does. Values are always parameters.
/// </summary>
internal sealed class SqlCompiler(StringBuilder sql, List<object> parameters)
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
        ["rule.groups"] = ("", Column.Groups),
        ["file"] = ("file", Column.Text),
        ["id"] = ("alert_id", Column.Text),
        ["timestamp"] = ("ts", Column.Time),
    };

    public void Compile(AlertQuery query)
    {
        switch (query)
        {
            case AlertQuery.MatchAll:
                sql.Append("1 = 1");
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
                sql.Append("alerts.json LIKE ").Append(Parameter("%" + EscapeLike(text.Text) + "%")).Append(" ESCAPE '\\'");
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
            sql.Append(column.Kind == Column.Groups ? "groups <> ','" : column.Sql + " IS NOT NULL");
            return;
        }

        sql.Append("json_type(alerts.json, ").Append(Parameter(JsonPath(field))).Append(") IS NOT NULL");
    }

    private void CompileMatch(AlertQuery.FieldMatch match)
    {
        var exact = match.Values.Where(v => !AlertQuery.HasWildcard(v)).ToList();
        var wildcards = match.Values.Where(AlertQuery.HasWildcard).ToList();
        s_columns.TryGetValue(match.Field, out var column);
        sql.Append('(');
        var first = true;
        if (exact.Count > 0)
        {
            first = false;
            switch (column.Kind)
            {
                case Column.Integer when column.Sql is not null:
                    sql.Append(column.Sql).Append(" IN (").AppendJoin(", ", exact.Select(v => Parameter(Integer(match.Field, v)))).Append(')');
                    break;
                case Column.Time when column.Sql is not null:
                    sql.Append(column.Sql).Append(" IN (").AppendJoin(", ", exact.Select(v => Parameter(Time(match.Field, v)))).Append(')');
                    break;
                case Column.Groups:
                    // Through the rule-id index (the rules that carried the group), then the alert's own groups.
                    var names = exact.Select(Parameter).ToList();
                    sql.Append("(rule_id IN (SELECT rule_id FROM rule_groups WHERE name IN (").AppendJoin(", ", names).Append(")) AND (")
                        .AppendJoin(" OR ", names.Select(n => $"instr(groups, ',' || {n} || ',') > 0")).Append("))");
                    break;
                case Column.Text when column.Sql is not null:
                    sql.Append(column.Sql).Append(" IN (").AppendJoin(", ", exact.Select(Parameter)).Append(')');
                    break;
                default:
                    sql.Append("EXISTS (SELECT 1 FROM json_each(alerts.json, ").Append(Parameter(JsonPath(match.Field)))
                        .Append(") WHERE CAST(value AS TEXT) IN (").AppendJoin(", ", exact.Select(Parameter)).Append("))");
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
            switch (column.Kind)
            {
                case Column.Groups:
                    sql.Append("(rule_id IN (SELECT rule_id FROM rule_groups WHERE name LIKE ").Append(like).Append(" ESCAPE '\\') AND EXISTS (SELECT 1 FROM json_each(alerts.json, '$.rule.groups') WHERE value LIKE ")
                        .Append(like).Append(" ESCAPE '\\'))");
                    break;
                case Column.Integer or Column.Text when column.Sql is not null:
                    sql.Append("CAST(").Append(column.Sql).Append(" AS TEXT) LIKE ").Append(like).Append(" ESCAPE '\\'");
                    break;
                case Column.Time:
                    throw new QueryException($"{match.Field} takes a time, not a pattern", 0);
                default:
                    sql.Append("EXISTS (SELECT 1 FROM json_each(alerts.json, ").Append(Parameter(JsonPath(match.Field)))
                        .Append(") WHERE CAST(value AS TEXT) LIKE ").Append(like).Append(" ESCAPE '\\')");
                    break;
            }
        }

        sql.Append(')');
    }

    private void CompileRange(AlertQuery.FieldRange range)
    {
        var op = range.Operator;
        if (s_columns.TryGetValue(range.Field, out var column) && column.Kind is Column.Integer or Column.Time)
        {
            var value = column.Kind == Column.Integer ? Integer(range.Field, range.Value) : Time(range.Field, range.Value);
            sql.Append(column.Sql).Append(' ').Append(op).Append(' ').Append(Parameter(value));
            return;
        }

        if (column.Kind is Column.Text or Column.Groups && column.Sql is not null)
        {
            throw new QueryException($"{range.Field} is text; '{op}' compares numbers and times", 0);
        }

        if (!double.TryParse(range.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            throw new QueryException($"'{op}' on {range.Field} needs a number, not '{range.Value}'", 0);
        }

        sql.Append("EXISTS (SELECT 1 FROM json_each(alerts.json, ").Append(Parameter(JsonPath(range.Field)))
            .Append(") WHERE CAST(value AS REAL) ").Append(op).Append(' ').Append(Parameter(number)).Append(')');
    }

    private string Parameter(object value)
    {
        parameters.Add(value);
        return "$p" + (parameters.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    private static long Integer(string field, string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new QueryException($"{field} is a number; '{value}' is not", 0);

    private static long Time(string field, string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds()
            : throw new QueryException($"{field} takes a time such as 2026-11-28T10:00:00Z; '{value}' is not one", 0);

    /// <summary>The SQLite JSON path of a dotted field name, each key quoted.</summary>
    internal static string JsonPath(string field)
    {
        var path = new StringBuilder("$");
        foreach (var part in field.Split('.'))
        {
            path.Append(".\"").Append(part).Append('"');
        }

        return path.ToString();
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static string Like(string pattern) => EscapeLike(pattern).Replace('*', '%').Replace('?', '_');
}
