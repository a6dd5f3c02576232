namespace Vigil.Core.Patterns;

// Wazuh's OSRegex, matched by the same algorithm as Wazuh's own engine rather than by translation to a general
// regular expression: its matcher is greedy with a short memory of where to resume (four saved points), so it misses
// some matches a backtracking engine would find (\p*\d*\s*\w*: does not match ":"), anchors and quantifiers
// mean something only in some places, and everything else is literal. Copying the algorithm is the only way to
// match exactly the same events; it is also linear enough for log lines (no exponential backtracking).
// - Alternatives split on '|' (outside escapes); each may start with '^' and end with '$' (the anchors), and is
//   tried in order; the first that matches wins, and its groups are the captures.
// - \w \W \d \D \s \S \p \t \. are classes; \( \) \\ \$ \| \< are literals; any other escape is an error.
// - '+' and '*' repeat the class before them; after anything else they are literal characters.
// - '(' and ')' mark a capture; groups cannot nest and cannot hold '|'.
// - Letters compare ignoring ASCII case. A character above U+00FF is one character of no class but \W \S \D \.
//   (Wazuh reads bytes, so it would count each UTF-8 byte of it).
internal sealed class OsRegexPattern : Pattern
{
    // Pattern elements after compilation: a class escape is Escape followed by the class code.
    private const char Escape = '\\';
    private const char GroupMark = '(';

    private readonly Alternative[] _alternatives;
    private readonly bool _hasGroups;

    private OsRegexPattern(string text, bool negate, Alternative[] alternatives)
        : base(text, PatternType.OsRegex, negate)
    {
        _alternatives = alternatives;
        _hasGroups = alternatives.Any(a => a.GroupCount > 0);
    }

    private enum Code : byte
    {
        None = 0,
        Digit = 1,
        Word = 2,
        Space = 3,
        Punctuation = 4,
        OpenParen = 5,
        CloseParen = 6,
        Backslash = 7,
        NotDigit = 8,
        NotWord = 9,
        NotSpace = 10,
        Any = 11,
        Tab = 12,
        Dollar = 13,
        Pipe = 14,
        LessThan = 15,
    }

    [Flags]
    private enum Anchors : byte
    {
        None = 0,
        Begin = 1,
        End = 2,
    }

    // One alternative: its elements (literal characters lower-cased, class escapes as Escape + code, group marks).
    private sealed record Alternative(string Elements, Anchors Anchors, int GroupCount);

    public static OsRegexPattern? Create(string text, bool negate, out string? error)
    {
        error = null;
        if (text.Length > 20480)
        {
            error = $"invalid OSRegex: longer than 20480 characters ({text.Length})";
            return null;
        }

        var compiled = new System.Text.StringBuilder(text.Length);
        var groupOpen = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\')
            {
                if (i + 1 == text.Length)
                {
                    return Fail(text, $"trailing backslash at offset {i}", out error);
                }

                var code = CodeOf(text[i + 1]);
                if (code == Code.None)
                {
                    return Fail(text, $"unknown escape '\\{text[i + 1]}' at offset {i}", out error);
                }

                compiled.Append(Escape).Append((char)code);
                i++;
                continue;
            }

            switch (c)
            {
                case '(':
                    if (groupOpen >= 0)
                    {
                        return Fail(text, $"nested group at offset {i} (group already open at offset {groupOpen})", out error);
                    }

                    groupOpen = i;
                    compiled.Append(GroupMark);
                    continue;
                case ')':
                    if (groupOpen < 0)
                    {
                        return Fail(text, $"unbalanced ')' at offset {i}", out error);
                    }

                    groupOpen = -1;
                    compiled.Append(GroupMark);
                    continue;
                case '|' when groupOpen >= 0:
                    return Fail(text, $"'|' at offset {i} inside the group opened at offset {groupOpen} (alternation cannot be grouped)", out error);
                default:
                    compiled.Append(c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
                    continue;
            }
        }

        if (groupOpen >= 0)
        {
            return Fail(text, $"unclosed group opened at offset {groupOpen}", out error);
        }

        // Split on the '|' left in the compiled text (escaped ones became codes).
        var parts = new List<Alternative>();
        var body = compiled.ToString();
        var start = 0;
        for (var i = 0; i <= body.Length; i++)
        {
            if (i < body.Length && body[i] == Escape)
            {
                i++;
                continue;
            }

            if (i < body.Length && body[i] != '|')
            {
                continue;
            }

            var part = body[start..i];
            var anchors = Anchors.None;
            if (part.StartsWith('^'))
            {
                part = part[1..];
                anchors |= Anchors.Begin;
            }

            // A final '$' is the anchor ('\$' became a class code, so this one is bare); "^$" anchors both ends.
            if (part.Length > 0 && part[^1] == '$')
            {
                part = part[..^1];
                anchors |= Anchors.End;
            }

            parts.Add(new Alternative(part, anchors, part.Count(ch => ch == GroupMark) / 2));
            start = i + 1;
        }

        return new OsRegexPattern(text, negate, [.. parts]);
    }

    public override bool IsMatch(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return (MatchEnd(input, 0, null) >= 0) != IsNegated;
    }

    public override bool TryMatch(string input, out IReadOnlyList<string> captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        captures = [];
        if (IsNegated)
        {
            return MatchEnd(input, 0, null) < 0;
        }

        if (!_hasGroups)
        {
            return MatchEnd(input, 0, null) >= 0;
        }

        var list = new List<string>();
        if (MatchEnd(input, 0, list) < 0)
        {
            return false;
        }

        captures = list;
        return true;
    }

    public override int MatchEnd(string input, int start, List<string>? captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        var end = input.IndexOf('\0', start);
        var str = input.AsSpan(start, (end < 0 ? input.Length : end) - start);
        Span<int> marks = stackalloc int[16];
        foreach (var alternative in _alternatives)
        {
            var groupMarks = captures is not null && alternative.GroupCount > 0 ? marks[..(alternative.GroupCount * 2)] : default;
            groupMarks.Fill(-1);
            var last = Match(alternative.Elements, str, groupMarks, alternative.Anchors);
            if (last == NoMatch)
            {
                continue;
            }

            if (captures is not null)
            {
                captures.Clear();

                // Both marks of a group must be set; Wazuh stops at the first group that is not.
                for (var g = 0; g + 1 < groupMarks.Length && groupMarks[g] >= 0 && groupMarks[g + 1] >= 0; g += 2)
                {
                    var from = groupMarks[g];
                    var to = groupMarks[g + 1];
                    captures.Add(to >= from ? str[from..to].ToString() : "");
                }
            }

            // Wazuh returns the last character matched; the text after the match starts one past it.
            return start + Math.Clamp(last + 1, 0, str.Length);
        }

        return -1;
    }

    // Wazuh's "no match" (a null pointer); -1 is a match that ends before the text (its pointer one before the start).
    private const int NoMatch = int.MinValue;

    private static char At(string pattern, int index) => index < pattern.Length ? pattern[index] : '\0';

    private static char Lower(char c) => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;

    private static bool InClass(char code, char c) => (Code)code switch
    {
        Code.Digit => char.IsAsciiDigit(c),
        Code.Word => char.IsAsciiLetterOrDigit(c) || c is '-' or '@' or '_',
        Code.Space => c == ' ',
        Code.Punctuation => c is (>= '!' and <= '.') or (>= ':' and <= '?') or '[' or ']' or '{' or '|' or '}',
        Code.OpenParen => c == '(',
        Code.CloseParen => c == ')',
        Code.Backslash => c == '\\',
        Code.NotDigit => !char.IsAsciiDigit(c),
        Code.NotWord => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '@' or '_'),
        Code.NotSpace => c != ' ',
        Code.Any => true,
        Code.Tab => c == '\t',
        Code.Dollar => c == '$',
        Code.Pipe => c == '|',
        Code.LessThan => c == '<',
        _ => false,
    };

    private static bool IsQuantifier(char c) => c is '+' or '*';

    // Sets the group mark that sits at pattern index 'at' (the n-th GroupMark of the pattern) to 'value'.
    private static void Mark(string pattern, int at, Span<int> marks, int value)
    {
        if (marks.IsEmpty)
        {
            return;
        }

        var n = 0;
        for (var i = 0; i < at; i++)
        {
            if (pattern[i] == Escape)
            {
                i++;
            }
            else if (pattern[i] == GroupMark)
            {
                n++;
            }
        }

        if (n < marks.Length)
        {
            marks[n] = value;
        }
    }

    // Returns the index of the last character matched (-1: before the start, for some empty matches), or NoMatch.
    // The structure follows Wazuh's matcher step by step, with indexes for its pointers; '\0' ends both strings.
    private static int Match(string pattern, ReadOnlySpan<char> str, Span<int> marks, Anchors anchors)
    {
        var endSet = (anchors & Anchors.End) != 0;
        var beginSet = (anchors & Anchors.Begin) != 0;
        var rCode = 0;
        var regexMatched = false;
        var stError = -1;
        var pt = 0;
        Span<int> ptError = [-1, -1, -1, -1];
        Span<int> ptErrorStr = [-1, -1, -1, -1];
        int st;
        for (st = 0; st < str.Length; ++st)
        {
            switch (At(pattern, pt))
            {
                case '\0':
                    if (!endSet)
                    {
                        return rCode;
                    }

                    break;
                case GroupMark:
                    Mark(pattern, pt, marks, st);
                    pt++;
                    if (At(pattern, pt) == '\0' && !endSet)
                    {
                        return rCode;
                    }

                    break;
            }

            if (At(pattern, pt) == Escape)
            {
                if (InClass(At(pattern, pt + 1), str[st]))
                {
                    var nextPt = pt + 2;
                    if (!IsQuantifier(At(pattern, nextPt)))
                    {
                        pt = nextPt;
                        if (stError < 0)
                        {
                            stError = st;
                        }

                        rCode = st;
                        continue;
                    }

                    if (At(pattern, nextPt) == '*')
                    {
                        regexMatched = true;
                    }

                    if (regexMatched)
                    {
                        nextPt++;
                        var okHere = -1;
                        if (At(pattern, nextPt) == GroupMark)
                        {
                            nextPt++;
                        }

                        if (At(pattern, nextPt) == '\0')
                        {
                            okHere = 1;
                        }
                        else if (At(pattern, nextPt) == Escape)
                        {
                            if (InClass(At(pattern, nextPt + 1), str[st]))
                            {
                                okHere = IsQuantifier(At(pattern, nextPt + 2)) ? 0 : 2;
                            }
                        }
                        else if (At(pattern, nextPt) == Lower(str[st]))
                        {
                            regexMatched = false;
                            okHere = 1;
                        }

                        if (okHere >= 0)
                        {
                            if (nextPt > 0 && At(pattern, nextPt - 1) == GroupMark)
                            {
                                Mark(pattern, nextPt - 1, marks, regexMatched && okHere == 1 ? st + 1 : st);
                            }

                            if (At(pattern, nextPt) == '\0')
                            {
                                continue;
                            }

                            nextPt += okHere;
                            for (var e = 0; e < 4; e++)
                            {
                                if (ptError[e] < 0)
                                {
                                    ptError[e] = pt;
                                    ptErrorStr[e] = st;
                                    break;
                                }
                            }

                            pt = nextPt;
                        }
                    }
                    else
                    {
                        nextPt++;
                        if (At(pattern, nextPt) == GroupMark)
                        {
                            Mark(pattern, nextPt, marks, st + 1 >= str.Length ? st + 1 : st);
                            nextPt++;
                        }

                        regexMatched = true;
                    }

                    rCode = st;
                    continue;
                }
                else if ((At(pattern, pt + 2) == '\0' || At(pattern, pt + 3) == '\0') && regexMatched && rCode != NoMatch)
                {
                    rCode = st;
                    if (!endSet)
                    {
                        return rCode;
                    }
                }
                else if (At(pattern, pt + 2) == '+' && regexMatched)
                {
                    pt += 3;
                    st--;
                    regexMatched = false;
                    continue;
                }
                else if (At(pattern, pt + 2) == '*')
                {
                    pt += 3;
                    st--;
                    rCode = st;
                    regexMatched = false;
                    continue;
                }

                regexMatched = false;
            }
            else if (At(pattern, pt) == Lower(str[st]))
            {
                pt++;
                if (stError < 0)
                {
                    stError = st;
                }

                rCode = st;
                continue;
            }

            // No match here: resume from the latest saved point, else restart the pattern one character later.
            var resumed = false;
            for (var e = 3; e >= 0; e--)
            {
                if (ptError[e] >= 0)
                {
                    pt = ptError[e];
                    st = ptErrorStr[e];
                    ptError[e] = -1;
                    resumed = true;
                    break;
                }
            }

            if (resumed)
            {
                continue;
            }

            if (beginSet)
            {
                return NoMatch;
            }

            if (stError >= 0)
            {
                st = stError;
                stError = -1;
            }

            pt = 0;
            rCode = NoMatch;
        }

        // The end of the text: a last group mark, after any trailing \x* elements, closes at the end.
        if (!marks.IsEmpty)
        {
            var p = pt;
            while (At(pattern, p) != GroupMark && At(pattern, p) != '\0' && At(pattern, p) == Escape && At(pattern, p + 2) == '*')
            {
                p += 3;
            }

            if (At(pattern, p) == GroupMark)
            {
                Mark(pattern, p, marks, st);
            }
        }

        return IsRestOptional(pattern, pt, regexMatched) ? rCode : NoMatch;
    }

    // Whether the rest of the pattern, from pt, may match nothing at the end of the text: Wazuh's final check, one
    // expression whose parts move the same pointer, so a part that fails leaves the pointer where it stopped.
    private static bool IsRestOptional(string pattern, int pt, bool regexMatched)
    {
        var p = pt;
        bool EndOfPattern()
        {
            if (At(pattern, p) == GroupMark)
            {
                p++;
            }

            return At(pattern, p) == '\0';
        }

        if (EndOfPattern())
        {
            return true;
        }

        if (At(pattern, p) == Escape && regexMatched)
        {
            p += 2;
            if (IsQuantifier(At(pattern, p)))
            {
                p++;
                if (EndOfPattern())
                {
                    return true;
                }

                if (At(pattern, p) == Escape)
                {
                    p += 2;
                    if (At(pattern, p) == '*')
                    {
                        p++;
                        if (EndOfPattern())
                        {
                            return true;
                        }
                    }
                }
            }
        }

        if (At(pattern, p) == Escape)
        {
            p += 2;
            if (At(pattern, p) == '*')
            {
                p++;
                return EndOfPattern();
            }
        }

        return false;
    }

    private static Code CodeOf(char escaped) => escaped switch
    {
        'd' => Code.Digit,
        'w' => Code.Word,
        's' => Code.Space,
        'p' => Code.Punctuation,
        '(' => Code.OpenParen,
        ')' => Code.CloseParen,
        '\\' => Code.Backslash,
        'D' => Code.NotDigit,
        'W' => Code.NotWord,
        'S' => Code.NotSpace,
        '.' => Code.Any,
        't' => Code.Tab,
        '$' => Code.Dollar,
        '|' => Code.Pipe,
        '<' => Code.LessThan,
        _ => Code.None,
    };

    private static OsRegexPattern? Fail(string text, string reason, out string? error)
    {
        error = $"invalid OSRegex '{text}': {reason}";
        return null;
    }
}
