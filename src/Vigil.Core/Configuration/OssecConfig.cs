namespace Vigil.Core.Configuration;

/// <summary>What Vigil reads from one or more <c>&lt;ossec_config&gt;</c> roots of an <c>ossec.conf</c> file.</summary>
public sealed record OssecConfig
{
    /// <summary>The configuration file this was read from, or empty for the built-in defaults.</summary>
    public string SourcePath { get; init; } = "";

    /// <summary>The install root (Wazuh's <c>/var/ossec</c>) against which relative paths resolve.</summary>
    public string Home { get; init; } = "";

    /// <summary>The <c>&lt;global&gt;</c> block.</summary>
    public GlobalOptions Global { get; init; } = new();

    /// <summary>The <c>&lt;alerts&gt;</c> block.</summary>
    public AlertsOptions Alerts { get; init; } = new();

    /// <summary>The <c>&lt;syscheck&gt;</c> block (file integrity monitoring).</summary>
    public SyscheckOptions Syscheck { get; init; } = new();

    /// <summary>Every <c>&lt;integration&gt;</c> block, in file order.</summary>
    public IReadOnlyList<IntegrationOptions> Integrations { get; init; } = [];

    /// <summary>Every <c>&lt;command&gt;</c> block, in file order.</summary>
    public IReadOnlyList<CommandOptions> Commands { get; init; } = [];

    /// <summary>Every enabled <c>&lt;active-response&gt;</c> block bound to a command, in file order.</summary>
    public IReadOnlyList<ActiveResponseOptions> ActiveResponses { get; init; } = [];

    /// <summary>The <c>&lt;ruleset&gt;</c> block: which decoder, rule and list files load.</summary>
    public RulesetOptions Ruleset { get; init; } = new();

    /// <summary>The <c>&lt;cluster&gt;</c> block; its node name is the AR message's <c>origin.name</c>.</summary>
    public ClusterOptions Cluster { get; init; } = new();

    /// <summary>Vigil's <c>&lt;prevention&gt;</c> block: deadlines and policy of on-access prevention (docs/prevention.md).</summary>
    public Prevention.PreventionOptions Prevention { get; init; } = new();

    /// <summary>The agent's <c>&lt;client&gt;</c> block: the managers it connects to, in order.</summary>
    public ClientOptions Client { get; init; } = new();

    /// <summary>Vigil's <c>&lt;database&gt;</c> block: the PostgreSQL a manager shares with others, if any.</summary>
    public DatabaseOptions? Database { get; init; }

    /// <summary>Resolves a path from the configuration: absolute paths stay, relative ones resolve against <see cref="Home"/>.</summary>
    public string ResolvePath(string path) =>
        System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(Home, path));
}

/// <summary>A value that must never be printed: its <see cref="ToString"/> hides it (API keys, passwords).</summary>
public sealed class Secret(string value)
{
    /// <summary>The secret itself; pass it only where it is used.</summary>
    public string Reveal() => value;

    /// <summary>Whether the secret is empty.</summary>
    public bool IsEmpty => value.Length == 0;

    /// <summary>Never the value.</summary>
    public override string ToString() => IsEmpty ? "(empty)" : "(redacted)";
}

/// <summary>The <c>&lt;global&gt;</c> block.</summary>
public sealed record GlobalOptions
{
    /// <summary><c>jsonout_output</c>: write <c>alerts.json</c>.</summary>
    public bool JsonOutput { get; init; } = true;

    /// <summary><c>alerts_log</c>: write <c>alerts.log</c>.</summary>
    public bool AlertsLog { get; init; } = true;

    /// <summary><c>logall</c>: archive every event.</summary>
    public bool LogAll { get; init; }

    /// <summary><c>logall_json</c>: archive every event as JSON.</summary>
    public bool LogAllJson { get; init; }

    /// <summary><c>email_notification</c>.</summary>
    public bool EmailNotification { get; init; }

    /// <summary><c>white_list</c> entries: addresses active responses never act on.</summary>
    public IReadOnlyList<string> WhiteList { get; init; } = [];

    /// <summary>Vigil's <c>min_free_disk</c>: below this much free space on the data directory's file system, rule 200404 and a console warning (0: never).</summary>
    public long MinFreeDiskBytes { get; init; } = 1L << 30;
}

/// <summary>The <c>&lt;alerts&gt;</c> block.</summary>
public sealed record AlertsOptions
{
    /// <summary><c>log_alert_level</c>: minimum level written to the alert files (Wazuh default 3).</summary>
    public int LogAlertLevel { get; init; } = 3;

    /// <summary><c>email_alert_level</c>: minimum level that sets <c>rule.mail</c> (Wazuh default 12).</summary>
    public int EmailAlertLevel { get; init; } = 12;
}

/// <summary>The <c>&lt;cluster&gt;</c> block.</summary>
public sealed record ClusterOptions
{
    /// <summary><c>name</c>.</summary>
    public string Name { get; init; } = "wazuh";

    /// <summary><c>node_name</c>.</summary>
    public string NodeName { get; init; } = "node01";

    /// <summary><c>disabled</c> (Wazuh's default cluster is disabled and hidden from alerts).</summary>
    public bool Disabled { get; init; } = true;
}

/// <summary>The <c>&lt;ruleset&gt;</c> block.</summary>
public sealed record RulesetOptions
{
    /// <summary><c>decoder_dir</c> entries, in order.</summary>
    public IReadOnlyList<string> DecoderDirs { get; init; } = [];

    /// <summary><c>rule_dir</c> entries, in order: each directory's <c>*.xml</c> files load sorted by name.</summary>
    public IReadOnlyList<string> RuleDirs { get; init; } = [];

    /// <summary><c>rule_include</c> entries: single rule files, loaded after the directories.</summary>
    public IReadOnlyList<string> RuleFiles { get; init; } = [];

    /// <summary><c>rule_exclude</c> entries: file names skipped in the rule directories.</summary>
    public IReadOnlyList<string> RuleExcludes { get; init; } = [];

    /// <summary><c>decoder_include</c> entries: single decoder files, loaded after the directories.</summary>
    public IReadOnlyList<string> DecoderFiles { get; init; } = [];

    /// <summary><c>decoder_exclude</c> entries.</summary>
    public IReadOnlyList<string> DecoderExcludes { get; init; } = [];

    /// <summary><c>list</c> entries: CDB list files, referenced from rules by this path.</summary>
    public IReadOnlyList<string> Lists { get; init; } = [];

    /// <summary>True when the file had no <c>&lt;ruleset&gt;</c> block and Vigil's defaults apply
    /// (the built-in <c>ruleset/rules</c> then <c>config/rules</c>).</summary>
    public bool IsDefault { get; init; } = true;
}

/// <summary>An <c>&lt;integration&gt;</c> block (integratord).</summary>
public sealed record IntegrationOptions
{
    /// <summary><c>name</c>: virustotal, slack, pagerduty, shuffle, maltiverse or custom-*.</summary>
    public required string Name { get; init; }

    /// <summary><c>api_key</c>, or the environment variable that supplies it when the element is empty.</summary>
    public Secret ApiKey { get; init; } = new("");

    /// <summary><c>hook_url</c>.</summary>
    public string? HookUrl { get; init; }

    /// <summary><c>level</c>: minimum rule level; null when not configured.</summary>
    public int? Level { get; init; }

    /// <summary><c>rule_id</c> entries; empty when not configured.</summary>
    public IReadOnlyList<string> RuleIds { get; init; } = [];

    /// <summary><c>group</c> entries, compared exactly against <c>rule.groups</c>; empty when not configured.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary><c>event_location</c>: an OSMatch pattern against the alert's location; null when not configured.</summary>
    public string? EventLocation { get; init; }

    /// <summary><c>alert_format</c> (json for virustotal).</summary>
    public string AlertFormat { get; init; } = "json";

    /// <summary><c>options</c>: a JSON object as text (Vigil's VirusTotal settings live here).</summary>
    public string? Options { get; init; }

    /// <summary><c>timeout</c> in seconds.</summary>
    public int TimeoutSeconds { get; init; } = 10;

    /// <summary><c>retries</c>.</summary>
    public int Retries { get; init; } = 3;

    /// <summary><c>max_log</c>.</summary>
    public int MaxLog { get; init; } = 165;

    /// <summary>Where the block starts, for messages.</summary>
    public SourceLocation Source { get; init; } = SourceLocation.None;

    /// <summary>Where the <c>options</c> JSON text starts (its first line), for messages about one of its keys.</summary>
    public SourceLocation OptionsSource { get; init; } = SourceLocation.None;
}

/// <summary>A <c>&lt;command&gt;</c> block: an active-response program.</summary>
public sealed record CommandOptions
{
    /// <summary><c>name</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>executable</c>: a file name inside <c>active-response/bin</c>.</summary>
    public required string Executable { get; init; }

    /// <summary><c>timeout_allowed</c>.</summary>
    public bool TimeoutAllowed { get; init; }

    /// <summary><c>extra_args</c>, split on spaces.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>Where the block starts, for messages.</summary>
    public SourceLocation Source { get; init; } = SourceLocation.None;
}

/// <summary>Where an active response runs (<c>location</c>, matched as OSRegex so values combine).</summary>
[Flags]
public enum ActiveResponseLocations
{
    /// <summary>Nowhere.</summary>
    None = 0,

    /// <summary><c>server</c> / <c>AS</c> / <c>analysisd</c> / <c>analysis-server</c>: the manager itself.</summary>
    Server = 1,

    /// <summary><c>local</c>: the agent that generated the event.</summary>
    Local = 2,

    /// <summary><c>defined-agent</c>: the agent named by <c>agent_id</c>.</summary>
    DefinedAgent = 4,

    /// <summary><c>all</c> / <c>any</c>: every active agent.</summary>
    All = 8,
}

/// <summary>An <c>&lt;active-response&gt;</c> block binding a command to rules.</summary>
public sealed record ActiveResponseOptions
{
    /// <summary><c>command</c>: the name of a <c>&lt;command&gt;</c>.</summary>
    public required string Command { get; init; }

    /// <summary><c>location</c>.</summary>
    public ActiveResponseLocations Location { get; init; }

    /// <summary><c>agent_id</c> for defined-agent.</summary>
    public string? AgentId { get; init; }

    /// <summary><c>rules_id</c> entries.</summary>
    public IReadOnlyList<string> RulesId { get; init; } = [];

    /// <summary><c>rules_group</c>: an OSRegex pattern against the rule's full group string.</summary>
    public string? RulesGroup { get; init; }

    /// <summary><c>level</c>: minimum rule level; null when not configured.</summary>
    public int? Level { get; init; }

    /// <summary><c>timeout</c> in seconds (0 when the command does not allow one).</summary>
    public int TimeoutSeconds { get; init; }

    /// <summary><c>repeated_offenders</c>, in minutes.</summary>
    public IReadOnlyList<int> RepeatedOffendersMinutes { get; init; } = [];

    /// <summary>The wire name: command name followed by the timeout, e.g. <c>remove-threat0</c>.</summary>
    public string WireName => $"{Command}{TimeoutSeconds}";

    /// <summary>Where the block starts, for messages.</summary>
    public SourceLocation Source { get; init; } = SourceLocation.None;
}

/// <summary>A file and line in a configuration or rule file.</summary>
public sealed record SourceLocation(string File, int Line)
{
    /// <summary>No location (built-in defaults).</summary>
    public static SourceLocation None { get; } = new("", 0);

    /// <summary>Renders as <c>file:line</c>.</summary>
    public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;
}
