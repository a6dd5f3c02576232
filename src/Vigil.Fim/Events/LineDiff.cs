using System.Text;

namespace Vigil.Fim.Events;

/// <summary>
/// A line diff printed in <c>diff</c>'s normal format (<c>2c2</c>, <c>&lt; old</c>, <c>---</c>, <c>&gt; new</c>).
/// Common head and tail are trimmed, then an LCS table is used on the middle; when the middle is too big for the table it is
/// printed as one change hunk, which is still a correct (if not minimal) diff.
/// </summary>
internal static class LineDiff
{
    private const long MaxTableCells = 4_000_000;

    public static string Compute(IReadOnlyList<string> oldLines, IReadOnlyList<string> newLines)
    {
        var prefix = 0;
        while (prefix < oldLines.Count && prefix < newLines.Count && oldLines[prefix] == newLines[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < oldLines.Count - prefix && suffix < newLines.Count - prefix
            && oldLines[oldLines.Count - 1 - suffix] == newLines[newLines.Count - 1 - suffix])
        {
            suffix++;
        }

        var n = oldLines.Count - prefix - suffix;
        var m = newLines.Count - prefix - suffix;
        var output = new StringBuilder();
        if (n == 0 && m == 0)
        {
            return "";
        }

        if ((long)(n + 1) * (m + 1) > MaxTableCells)
        {
            Hunk(output, oldLines, newLines, prefix, prefix + n, prefix, prefix + m);
            return output.ToString();
        }

        // lcs[i, j] = LCS length of old[i..n) and new[j..m) (offset by prefix).
        var lcs = new int[n + 1, m + 1];
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m - 1; j >= 0; j--)
            {
                lcs[i, j] = oldLines[prefix + i] == newLines[prefix + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        int oi = 0, ni = 0, oStart = 0, nStart = 0;
        while (oi < n || ni < m)
        {
            if (oi < n && ni < m && oldLines[prefix + oi] == newLines[prefix + ni])
            {
                Hunk(output, oldLines, newLines, prefix + oStart, prefix + oi, prefix + nStart, prefix + ni);
                oi++;
                ni++;
                oStart = oi;
                nStart = ni;
            }
            else if (ni < m && (oi == n || lcs[oi, ni + 1] >= lcs[oi + 1, ni]))
            {
                ni++;
            }
            else
            {
                oi++;
            }
        }

        Hunk(output, oldLines, newLines, prefix + oStart, prefix + oi, prefix + nStart, prefix + ni);
        return output.ToString();
    }

    public static string[] SplitLines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    /// <summary>Prints old[o0..o1) → new[n0..n1) (0-based, exclusive); nothing when both are empty.</summary>
    private static void Hunk(StringBuilder output, IReadOnlyList<string> oldLines, IReadOnlyList<string> newLines, int o0, int o1, int n0, int n1)
    {
        if (o0 == o1 && n0 == n1)
        {
            return;
        }

        if (output.Length > 0)
        {
            output.Append('\n');
        }

        if (o0 == o1)
        {
            output.Append(o0).Append('a').Append(Range(n0 + 1, n1));
        }
        else if (n0 == n1)
        {
            output.Append(Range(o0 + 1, o1)).Append('d').Append(n0);
        }
        else
        {
            output.Append(Range(o0 + 1, o1)).Append('c').Append(Range(n0 + 1, n1));
        }

        for (var i = o0; i < o1; i++)
        {
            output.Append("\n< ").Append(oldLines[i]);
        }

        if (o0 != o1 && n0 != n1)
        {
            output.Append("\n---");
        }

        for (var i = n0; i < n1; i++)
        {
            output.Append("\n> ").Append(newLines[i]);
        }
    }

    private static string Range(int first, int last) => first == last ? $"{first}" : $"{first},{last}";
}
