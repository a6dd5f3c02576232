using System.Globalization;

namespace Vigil.Analysis.Rules;

/// <summary>
/// Wazuh's <c>&lt;time&gt;</c> and <c>&lt;weekday&gt;</c> values. A time range is two times ("6 pm", "18:30",
/// "8:30 am") joined by '-', optionally after '!' (outside the range); a range that wraps midnight
/// ("10 pm - 6 am") means outside its reverse. Days are names or three-letter names, "weekdays" and "weekends",
/// separated by commas or spaces.
/// </summary>
internal static class RuleTimes
{
    private static readonly (string Name, int Day)[] s_days =
    [
        ("sunday", 0), ("sun", 0), ("monday", 1), ("mon", 1), ("tuesday", 2), ("tue", 2), ("wednesday", 3), ("wed", 3),
        ("thursday", 4), ("thu", 4), ("friday", 5), ("fri", 5), ("saturday", 6), ("sat", 6), ("weekdays", 7), ("weekends", 8),
    ];

    public static (string From, string To, bool IsOutside)? ParseTime(string text)
    {
        var s = text.AsSpan().TrimStart(' ');
        var negated = false;
        if (s.StartsWith("!"))
        {
            negated = true;
            s = s[1..].TrimStart(' ');
        }

        if (ReadHour(ref s) is not { } first)
        {
            return null;
        }

        s = s.TrimStart(' ');
        if (!s.StartsWith("-"))
        {
            return null;
        }

        s = s[1..].TrimStart(' ');
        if (ReadHour(ref s) is not { } second || !s.TrimStart(' ').IsEmpty)
        {
            return null;
        }

        // A range that wraps midnight is "not between the second and the first" (Wazuh drops a '!' in that case).
        return string.CompareOrdinal(first, second) > 0 ? (second, first, true) : (first, second, negated);
    }

    private static string? ReadHour(ref ReadOnlySpan<char> s)
    {
        var digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
        {
            digits++;
        }

        if (digits is 0 or > 2)
        {
            return null;
        }

        var hour = int.Parse(s[..digits], CultureInfo.InvariantCulture);
        if (hour >= 24)
        {
            return null;
        }

        s = s[digits..];
        var minute = 0;
        if (s.StartsWith(":"))
        {
            if (s.Length < 3 || !char.IsAsciiDigit(s[1]) || !char.IsAsciiDigit(s[2]))
            {
                return null;
            }

            minute = int.Parse(s[1..3], CultureInfo.InvariantCulture);
            s = s[3..];
        }

        s = s.TrimStart(' ');
        if (s.Length >= 2 && (s[0] is 'a' or 'A' or 'p' or 'P') && s[1] is 'm' or 'M')
        {
            hour = hour == 12 ? 0 : hour;
            if (s[0] is 'p' or 'P')
            {
                hour += 12;
            }

            if (hour >= 24)
            {
                return null;
            }

            s = s[2..];
        }
        else if (s.Length >= 1 && s[0] is 'a' or 'A' or 'p' or 'P')
        {
            return null;
        }

        return $"{hour:D2}:{minute:D2}".ToString(CultureInfo.InvariantCulture);
    }

    public static bool[]? ParseWeekDays(string text)
    {
        var s = text.AsSpan().TrimStart(' ');
        var days = new bool[7];

        // Wazuh reads a leading '!' as negation but never steps over it, so "!monday" is not a valid day list.
        while (!s.IsEmpty)
        {
            var found = false;
            foreach (var (name, day) in s_days)
            {
                if (s.StartsWith(name, StringComparison.OrdinalIgnoreCase))
                {
                    switch (day)
                    {
                        case 7:
                            days[1] = days[2] = days[3] = days[4] = days[5] = true;
                            break;
                        case 8:
                            days[0] = days[6] = true;
                            break;
                        default:
                            days[day] = true;
                            break;
                    }

                    s = s[name.Length..];
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return null;
            }

            if (s.IsEmpty)
            {
                break;
            }

            if (s[0] is not (',' or ' '))
            {
                return null;
            }

            s = s.TrimStart(", ");
        }

        return days.Any(d => d) ? days : null;
    }

    /// <summary>Whether the local time of day "HH:MM" is inside (or, for an outside range, outside) the range.</summary>
    public static bool IsOnTime((string From, string To, bool IsOutside) range, string hourMinute)
    {
        var inside = string.CompareOrdinal(hourMinute, range.From) >= 0 && string.CompareOrdinal(hourMinute, range.To) <= 0;
        return inside != range.IsOutside;
    }
}
