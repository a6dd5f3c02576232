namespace Vigil.Analysis.Decoding;

/// <summary>The decoders of the pipeline, in the order they are tried.</summary>
internal sealed class DecoderSet
{
    private readonly IDecoder[] _decoders;
    private readonly Xml.XmlDecoderTree? _xml;
    private readonly HashSet<string> _names;

    public DecoderSet(IEnumerable<IDecoder> decoders, Xml.XmlDecoderTree? xml = null)
    {
        _decoders = [.. decoders];
        _xml = xml;
        _names = new HashSet<string>(_decoders.SelectMany(d => d.Names).Concat(xml?.Names ?? []), StringComparer.Ordinal);
    }

    /// <summary>The built-in decoders followed by the decoders of the configured decoder files.</summary>
    public DecoderSet With(Xml.XmlDecoderTree xml) => new(_decoders, xml);

    /// <summary>How many decoders the decoder files added.</summary>
    public int XmlDecoderCount => _xml?.Count ?? 0;

    /// <summary>Vigil's built-in decoders: FIM, JSON, active-response log, and Wazuh's own daemon messages.</summary>
    public static DecoderSet BuiltIn { get; } = new(
    [
        new FimDecoder(),
        new JsonDecoder(),
        new ArLogJsonDecoder(),
        new PrefixDecoder("ossec", "ossec: "),
        new PrefixDecoder("wazuh", "wazuh: "),

        // Vigil's own daemon messages (agent connected/disconnected, agent queue full) group under rule 500 as Wazuh's do.
        new PrefixDecoder("ossec", "vigil: "),
    ]);

    /// <summary>Decoders built into Wazuh's analysisd for modules Vigil does not run (rootcheck, SCA, syscollector, …).</summary>
    public static IReadOnlySet<string> ModuleDecoderNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "rootcheck", "syscheck_registry_key_modified", "syscheck_registry_key_added", "syscheck_registry_key_deleted",
        "syscheck_registry_value_modified", "syscheck_registry_value_added", "syscheck_registry_value_deleted",
        "hostinfo_new", "hostinfo_modified", "syscollector", "ciscat", "windows_eventchannel", "sca",
    };

    /// <summary>Why a decoder of the decoder files was left out, when it was refused by name.</summary>
    public string? RefusedReason(string name) => _xml?.Refused.GetValueOrDefault(name);

    /// <summary>Whether <c>decoded_as</c> may name this decoder.</summary>
    public bool Contains(string name) => _names.Contains(name);

    /// <summary>The decoders in the order they are tried.</summary>
    public IReadOnlyList<IDecoder> All => _decoders;

    public IEnumerable<string> Names => _names.Order(StringComparer.Ordinal);

    /// <summary>
    /// Runs the first built-in decoder that claims the event; any other event is pre-decoded (syslog header) and
    /// offered to the decoders of the decoder files. Events no decoder claims keep no decoder (category syslog).
    /// </summary>
    public void Decode(AnalysisEvent analysisEvent)
    {
        foreach (var decoder in _decoders)
        {
            if (decoder.TryDecode(analysisEvent))
            {
                return;
            }
        }

        if (_xml is not null)
        {
            SyslogPreDecoder.Apply(analysisEvent);
            _xml.TryDecode(analysisEvent);
        }
    }
}
