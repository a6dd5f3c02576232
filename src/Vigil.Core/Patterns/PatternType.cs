namespace Vigil.Core.Patterns;

/// <summary>The pattern languages a Wazuh rule or decoder element can use (its <c>type=</c> attribute).</summary>
public enum PatternType
{
    /// <summary>Wazuh's simple string matcher ("osmatch", "sregex"): literal alternatives with optional anchors.</summary>
    OsMatch,

    /// <summary>Wazuh's small regular expression language ("osregex"), case-insensitive.</summary>
    OsRegex,

    /// <summary>Perl-compatible regular expressions ("pcre2"), case-sensitive.</summary>
    Pcre2,
}
