namespace Vigil.Analysis.Decoding;

/// <summary>The decoders of the pipeline, in the order they are tried.</summary>
internal sealed class DecoderSet
{
    private readonly IDecoder[] _decoders;
    private readonly HashSet<string> _names;

    public DecoderSet(IEnumerable<IDecoder> decoders)
    {
        _decoders = [.. decoders];
        _names = new HashSet<string>(_decoders.SelectMany(d => d.Names), StringComparer.Ordinal);
    }

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

    /// <summary>Whether <c>decoded_as</c> may name this decoder.</summary>
    public bool Contains(string name) => _names.Contains(name);

    /// <summary>The decoders in the order they are tried.</summary>
    public IReadOnlyList<IDecoder> All => _decoders;

    public IEnumerable<string> Names => _names.Order(StringComparer.Ordinal);

    /// <summary>Runs the first decoder that claims the event; events no decoder claims keep no decoder (category syslog).</summary>
    public void Decode(AnalysisEvent analysisEvent)
    {
        foreach (var decoder in _decoders)
        {
            if (decoder.TryDecode(analysisEvent))
            {
                return;
            }
        }
    }
}
