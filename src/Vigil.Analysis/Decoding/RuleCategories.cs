namespace Vigil.Analysis.Decoding;

/// <summary>Decoder types / rule categories (<c>&lt;category&gt;</c>); the default is syslog.</summary>
internal static class RuleCategories
{
    public const string Syslog = "syslog";
    public const string Firewall = "firewall";
    public const string Ids = "ids";
    public const string WebLog = "web-log";
    public const string Squid = "squid";
    public const string Windows = "windows";
    public const string Ossec = "ossec";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Syslog, Firewall, Ids, WebLog, Squid, Windows, Ossec, "host-info", "rootcheck", "syscheck",
    };
}
