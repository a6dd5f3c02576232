namespace Vigil.Core.Events;

/// <summary>
/// The ids of Vigil's own rules that more than one stage reads (the alert index, the dashboard's detection chain,
/// response): defined in <c>ruleset/rules/0497-vigil_response_rules.xml</c>, named once here.
/// </summary>
public static class VigilRules
{
    /// <summary>A quarantined file restored.</summary>
    public const int QuarantineRestored = 200300;

    /// <summary>A quarantined file deleted for good.</summary>
    public const int QuarantineDeleted = 200301;

    /// <summary>Vigil's remove-threat had nothing to do (an AR log line of the quarantine program that is not a record).</summary>
    public const int RemoveThreatNothingToDo = 200302;

    /// <summary>A file put in quarantine: the record the manager's quarantine view is built from.</summary>
    public const int Quarantined = 200303;
}

/// <summary>
/// The dotted paths into an alert document that intelligence writes and response and the index read: where the file
/// an alert is about, and the alert that caused it, are found.
/// </summary>
public static class AlertPaths
{
    /// <summary>The VirusTotal integration's source object (the seed's rule 87105 and Vigil's lookups).</summary>
    public const string VirusTotalSource = "data.virustotal.source";

    /// <summary>Vigil's local intelligence source object.</summary>
    public const string VigilSource = "data.vigil.source";

    /// <summary>The FIM event's path.</summary>
    public const string SyscheckPath = "syscheck.path";

    /// <summary>An active response's parameters, as the AR log line gives them.</summary>
    public const string Parameters = "data.parameters";

    /// <summary>The alert an active response acted on, inside its parameters.</summary>
    public const string ParametersAlert = Parameters + ".alert";

    public const string VirusTotalSourceFile = VirusTotalSource + ".file";

    public const string VigilSourceFile = VigilSource + ".file";

    public const string VirusTotalSourceAlertId = VirusTotalSource + ".alert_id";

    public const string VigilSourceAlertId = VigilSource + ".alert_id";

    /// <summary>Where a restored file went (rule 200300's record).</summary>
    public const string RestoredTo = Parameters + ".restored_to";

    /// <summary>The segments of a dotted path, for walking a document.</summary>
    public static string[] Segments(string path) => path.Split('.');
}
