using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Analysis.Decoding;

/// <summary>
/// One event while it is decoded and matched (Wazuh's <c>Eventinfo</c>): where it came from, the log text,
/// the decoder that claimed it, and the fields rules test.
/// </summary>
internal sealed class AnalysisEvent
{
    public AnalysisEvent(EventMessage message, DateTimeOffset receivedAt)
        : this(message, message.SplitLocation(), receivedAt)
    {
    }

    /// <summary>An event whose location was already split (<see cref="EventMessage.SplitLocation"/>).</summary>
    public AnalysisEvent(EventMessage message, (AgentIdentity? Agent, string Location) split, DateTimeOffset receivedAt)
    {
        Queue = message.Queue;
        var (agent, location) = split;
        Agent = agent;
        Location = location;
        FullLocation = message.Location;
        Log = message.Message;
        FullLog = message.Message;
        ReceivedAt = receivedAt;
    }

    public char Queue { get; }

    /// <summary>The agent, or null for events of the manager itself.</summary>
    public AgentIdentity? Agent { get; }

    /// <summary>The location after <c>-&gt;</c> (what the alert's <c>location</c> shows).</summary>
    public string Location { get; }

    /// <summary>The location as received, with the agent part (what <c>&lt;location&gt;</c> in a rule tests).</summary>
    public string FullLocation { get; }

    /// <summary>The text <c>match</c> and <c>regex</c> test (Wazuh's <c>lf-&gt;log</c>).</summary>
    public string Log { get; set; }

    /// <summary>The whole message (Wazuh's <c>full_log</c>).</summary>
    public string FullLog { get; set; }

    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The program name of a syslog header, found by pre-decoding (decoders with <c>program_name</c> see it).</summary>
    public string? ProgramName { get; set; }

    /// <summary>The hostname of a syslog header, found by pre-decoding.</summary>
    public string? PreDecodedHostname { get; set; }

    /// <summary>The leading timestamp, found by pre-decoding.</summary>
    public string? PreDecodedTimestamp { get; set; }

    public DecoderInfo? Decoder { get; set; }

    public EventFields Fields { get; } = new();

    /// <summary>The FIM event when the decoder is one of the syscheck decoders.</summary>
    public FimEventData? Syscheck { get; set; }

    /// <summary>Claimed by a decoder but never alerted (FIM scan_start / scan_end).</summary>
    public bool IsSuppressed { get; set; }

    /// <summary>
    /// Why the event is not a valid message of the format its queue or location promises (a queue-8 message that is not
    /// a FIM message, an integration's result that is not a JSON object), or null. Such an event is not analysed: a
    /// host keeps it as a dead letter with its 200500 alert (docs/text.md).
    /// </summary>
    public string? InvalidReason { get; set; }

    /// <summary>Marks the event invalid (claimed, suppressed, with the reason); returns true, as a decoder that claimed it.</summary>
    internal bool Invalid(string reason)
    {
        InvalidReason = reason;
        IsSuppressed = true;
        return true;
    }

    public string AgentId => Agent?.Id ?? "000";
}

/// <summary>The decoder that claimed an event: its name, its parent's name (child decoders), and its rule category.</summary>
internal sealed record DecoderInfo(string Name, string? Parent, string Category)
{
    /// <summary>The decoder's <c>fts</c> fields (first time seen), for rules with <c>if_fts</c>.</summary>
    public IReadOnlyList<string> Fts { get; init; } = [];

    /// <summary><see cref="Name"/> and <see cref="Parent"/> as alerts.json prints them, encoded once.</summary>
    public JsonEncodedText NameJson { get; } =
        JsonEncodedText.Encode(Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

    /// <inheritdoc cref="NameJson"/>
    public JsonEncodedText? ParentJson { get; } =
        Parent is null ? null : JsonEncodedText.Encode(Parent, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
}
