using System.Text.RegularExpressions;
using Vigil.Core.Configuration;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests.Docs;

/// <summary>
/// docs/configuration.md against the readers: every option a reader accepts is documented, and every documented option
/// is accepted. Each reader lists what it allows when it meets an element it does not know, so the test asks the
/// readers themselves by feeding them a probe element.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    private const string Probe = "vigil_probe_zz";
    private const string Allowed = "allowed:";
    private const string Reads = "Vigil reads ";

    /// <summary>Each documented table (by its marker in the reference) and the XML that puts the probe inside it.</summary>
    public static TheoryData<string, string> Sections => new()
    {
        { "global", "<global>{0}</global>" },
        { "alerts", "<alerts>{0}</alerts>" },
        { "syscheck", "<syscheck>{0}</syscheck>" },
        { "syscheck/file_limit", "<syscheck><file_limit>{0}</file_limit></syscheck>" },
        { "syscheck/synchronization", "<syscheck><synchronization>{0}</synchronization></syscheck>" },
        { "syscheck/diff", "<syscheck><diff>{0}</diff></syscheck>" },
        { "syscheck/diff/disk_quota", "<syscheck><diff><disk_quota>{0}</disk_quota></diff></syscheck>" },
        { "syscheck/whodata", "<syscheck><whodata>{0}</whodata></syscheck>" },
        { "integration", "<integration><name>virustotal</name>{0}</integration>" },
        { "command", "<command><name>probe</name><executable>remove-threat</executable>{0}</command>" },
        { "active-response", "<active-response><command>probe</command><location>local</location>{0}</active-response>" },
        { "ruleset", "<ruleset>{0}</ruleset>" },
        { "cluster", "<cluster>{0}</cluster>" },
        { "prevention", "<prevention>{0}</prevention>" },
        { "database", "<database>{0}</database>" },
    };

    [Theory]
    [MemberData(nameof(Sections))]
    public void EveryOptionTheReaderAccepts_IsDocumented(string section, string template)
    {
        var allowed = AllowedBy(template);
        var documented = Reference.Value.GetValueOrDefault(section) ?? [];
        var missing = allowed.Where(a => !documented.Contains(a)).ToArray();
        Assert.True(missing.Length == 0, $"docs/configuration.md, table '{section}', lacks: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public void EveryDocumentedOption_IsAcceptedByTheReader(string section, string template)
    {
        var documented = Reference.Value.GetValueOrDefault(section);
        Assert.True(documented is { Count: > 0 }, $"docs/configuration.md has no table marked '{section}'");
        foreach (var option in documented)
        {
            var xml = Wrap(string.Format(template, $"<{option}/>"));
            var diagnostics = OssecConfigLoader.LoadFromString(xml, "probe.conf", Options).Diagnostics;
            Assert.DoesNotContain(diagnostics, d => d.Message.Contains($"<{option}>", StringComparison.Ordinal)
                && (d.Message.Contains("is not a valid option", StringComparison.Ordinal) || d.Message.Contains("is not a known option", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void DirectoryAttributes_AreDocumentedBothWays()
    {
        var xml = Wrap($"<syscheck><directories {Probe}=\"yes\">/tmp</directories></syscheck>");
        var message = OssecConfigLoader.LoadFromString(xml, "probe.conf", Options).Diagnostics
            .Select(d => d.Message).FirstOrDefault(m => m.Contains(Probe, StringComparison.Ordinal) && m.Contains("allowed:", StringComparison.Ordinal));
        Assert.NotNull(message);
        var allowed = AllowedList(message);
        var documented = Reference.Value.GetValueOrDefault("syscheck/directories") ?? [];
        AssertNone(allowed.Where(a => !documented.Contains(a)), "attributes Vigil reads but the reference lacks");
        AssertNone(documented.Where(d => !allowed.Contains(d)), "attributes the reference lists but Vigil refuses");
    }

    [Fact]
    public void TopLevelBlocks_DocumentedAsImplemented_AreTheOnesVigilReads()
    {
        // Blocks of a Wazuh ossec.conf; Vigil reads some and warns once about each of the others.
        string[] wazuhBlocks =
        [
            "global", "alerts", "syscheck", "integration", "command", "active-response", "ruleset", "cluster",
            "remote", "auth", "client", "client_buffer", "localfile", "wodle", "rootcheck", "sca", "logging",
            "labels", "vulnerability-detection", "indexer", "syslog_output", "email_alerts", "reports",
            "agent-upgrade", "task-manager", "rule_test", "socket", "fluent-forward", "anti_tampering", "gcp-pubsub",
        ];
        var documented = Reference.Value.GetValueOrDefault("ossec_config") ?? [];
        foreach (var block in wazuhBlocks)
        {
            var diagnostics = OssecConfigLoader.LoadFromString(Wrap($"<{block}></{block}>"), "probe.conf", Options).Diagnostics;
            var read = !diagnostics.Any(d => d.Message.Contains($"<{block}> is not implemented", StringComparison.Ordinal));
            Assert.True(read == documented.Contains(block),
                $"<{block}>: Vigil {(read ? "reads" : "does not read")} it, the reference {(documented.Contains(block) ? "lists" : "does not list")} it as read");
        }
    }

    [Fact]
    public void VirusTotalOptions_AreDocumentedBothWays()
    {
        // The options JSON ignores keys it does not know (they may belong to other integrations), so the keys it
        // knows are read from the reader's own source.
        var source = File.ReadAllText(RepositoryPaths.Get("src", "Vigil.Intel", "IntelOptions.cs"));
        var known = CaseLabel().Matches(source).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(known);
        var documented = Reference.Value.GetValueOrDefault("integration/options") ?? [];
        AssertNone(known.Where(k => !documented.Contains(k)), "options Vigil reads but the reference lacks");
        AssertNone(documented.Where(d => !known.Contains(d)), "options the reference lists but Vigil ignores");
    }

    private static readonly ConfigLoadOptions Options = new() { Home = RepositoryPaths.Root, GetEnvironmentVariable = _ => null };

    private static readonly Lazy<Dictionary<string, HashSet<string>>> Reference = new(ReadReference);

    private static void AssertNone(IEnumerable<string> items, string what)
    {
        var list = items.ToArray();
        Assert.True(list.Length == 0, $"{what}: {string.Join(", ", list)}");
    }

    private static string Wrap(string inner) => $"<ossec_config>{inner}</ossec_config>";

    private static HashSet<string> AllowedBy(string template)
    {
        var xml = Wrap(string.Format(template, $"<{Probe}/>"));
        var diagnostics = OssecConfigLoader.LoadFromString(xml, "probe.conf", Options).Diagnostics;
        var message = diagnostics.Select(d => d.Message)
            .FirstOrDefault(m => m.Contains($"<{Probe}>", StringComparison.Ordinal) && (m.Contains(Allowed, StringComparison.Ordinal) || m.Contains(Reads, StringComparison.Ordinal)));
        Assert.True(message is not null, $"the reader did not list what it allows for {template}: "
            + string.Join(" | ", diagnostics.Select(d => d.Message)));
        return AllowedList(message);
    }

    private static HashSet<string> AllowedList(string message)
    {
        var marker = message.Contains(Allowed, StringComparison.Ordinal) ? Allowed : Reads;
        var list = message[(message.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
        return list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Split('=')[0].Trim('"'))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Tables of docs/configuration.md: each follows a marker <c>&lt;!-- options: SECTION --&gt;</c>, and the first cell of each row names an option in backquotes.</summary>
    private static Dictionary<string, HashSet<string>> ReadReference()
    {
        var sections = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string>? current = null;
        foreach (var line in File.ReadLines(RepositoryPaths.Get("docs", "configuration.md")))
        {
            if (Marker().Match(line) is { Success: true } marker)
            {
                current = [];
                sections[marker.Groups["section"].Value] = current;
            }
            else if (current is not null && line.StartsWith('|'))
            {
                if (FirstCell().Match(line) is { Success: true } cell)
                {
                    current.Add(cell.Groups["name"].Value);
                }
            }
            else if (current is not null && current.Count > 0 && !line.StartsWith('|'))
            {
                current = null;
            }
        }

        return sections;
    }

    [GeneratedRegex(@"^<!-- options: (?<section>[a-z_/-]+) -->$")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\| `<?(?<name>[a-z0-9_-]+)>?`")]
    private static partial Regex FirstCell();

    [GeneratedRegex("case \"(?<name>[a-z0-9_]+)\":")]
    private static partial Regex CaseLabel();
}
