using System.Text;
using System.Text.RegularExpressions;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests.Docs;

/// <summary>The README and docs/ stand alone: no link leaves the repository, none points to a missing file or heading.</summary>
public sealed partial class DocumentationLinkTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        foreach (var file in DocumentFiles())
        {
            data.Add(Path.GetRelativePath(RepositoryPaths.Root, file));
        }

        return data;
    }

    [Fact]
    public void TheDocsFolder_HoldsTheUserGuides()
    {
        foreach (var guide in new[] { "getting-started.md", "coming-from-wazuh.md", "troubleshooting.md", "configuration.md" })
        {
            Assert.True(File.Exists(RepositoryPaths.Get("docs", guide)), $"docs/{guide} is missing");
            Assert.Contains($"docs/{guide}", File.ReadAllText(RepositoryPaths.Get("README.md")), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryLink_StaysInTheRepositoryAndResolves(string document)
    {
        var path = RepositoryPaths.Get(document);
        var text = File.ReadAllText(path);
        var problems = new List<string>();
        foreach (var (line, target) in Links(text))
        {
            if (Scheme().IsMatch(target))
            {
                problems.Add($"{document}:{line}: {target} points outside the repository");
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
            if (!IsInside(resolved))
            {
                problems.Add($"{document}:{line}: {target} leaves the repository");
            }
            else if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                problems.Add($"{document}:{line}: {target} names a missing file");
            }
            else if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.Ordinal)
                && !Anchors(File.ReadAllText(resolved)).Contains(anchor))
            {
                problems.Add($"{document}:{line}: {target}: no heading #{anchor}");
            }
        }

        foreach (var (line, mention) in RelativeMentions(text))
        {
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, mention));
            if (!IsInside(resolved))
            {
                problems.Add($"{document}:{line}: {mention} is outside the repository");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Anchors_FollowTheHeadingsAsRenderedPagesDo()
    {
        var anchors = Anchors("# Getting started\n## 2. A manager and an agent (one machine)\n```\n# not a heading\n```\n## Ports & state\n## Ports & state\n");
        Assert.Equal(["2-a-manager-and-an-agent-one-machine", "getting-started", "ports--state", "ports--state-1"], anchors.Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> DocumentFiles()
    {
        yield return RepositoryPaths.Get("README.md");
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Get("docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return file;
        }

        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Get("src"), "README.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return file;
        }
    }

    private static bool IsInside(string path) =>
        path == RepositoryPaths.Root || path.StartsWith(RepositoryPaths.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Markdown links and images outside code, with their line numbers.</summary>
    private static IEnumerable<(int Line, string Target)> Links(string text)
    {
        foreach (var (number, line) in ProseLines(text))
        {
            foreach (Match match in InlineLink().Matches(StripCodeSpans(line)))
            {
                yield return (number, match.Groups["target"].Value);
            }
        }
    }

    /// <summary>Relative paths written as text (`../x/y`), which a reader would look for beside the file.</summary>
    private static IEnumerable<(int Line, string Path)> RelativeMentions(string text)
    {
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            foreach (Match match in ParentPath().Matches(line))
            {
                yield return (number, match.Value);
            }
        }
    }

    private static IEnumerable<(int Number, string Line)> ProseLines(string text)
    {
        var inFence = false;
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (!inFence)
            {
                yield return (number, line);
            }
        }
    }

    private static string StripCodeSpans(string line) => CodeSpan().Replace(line, "");

    /// <summary>Heading anchors as rendered Markdown pages make them: lower case, punctuation dropped, spaces to hyphens, repeats numbered.</summary>
    internal static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, line) in ProseLines(markdown))
        {
            if (Heading().Match(line) is not { Success: true } heading)
            {
                continue;
            }

            var slug = new StringBuilder();
            foreach (var c in heading.Groups["text"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }

        return anchors;
    }

    [GeneratedRegex(@"!?\[[^\]]*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    [GeneratedRegex(@"(?<![\w./-])(?:\.\./)+[\w.-]+(?:/[\w.-]+)*")]
    private static partial Regex ParentPath();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex Heading();
}
