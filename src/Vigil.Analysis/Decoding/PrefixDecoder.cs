using System.Text.Json;

namespace Vigil.Analysis.Decoding;

/// <summary>
/// Messages Wazuh's own daemons log into the pipeline: <c>ossec: …</c> (decoder <c>ossec</c>, e.g. rule 560) and
/// <c>wazuh: …</c> (decoder <c>wazuh</c>, e.g. the FIM DB state JSON of rules 230–234).
/// </summary>
internal sealed class PrefixDecoder(string name, string prefix) : IDecoder
{
    private const string FimDbPrefix = "wazuh: FIM DB: ";
    private readonly DecoderInfo _info = new(name, null, RuleCategories.Ossec);

    public IReadOnlyList<string> Names { get; } = [name];

    public bool TryDecode(AnalysisEvent analysisEvent)
    {
        if (!analysisEvent.Log.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        analysisEvent.Decoder = _info;
        if (analysisEvent.Log.StartsWith(FimDbPrefix, StringComparison.Ordinal))
        {
            try
            {
                using var document = JsonDocument.Parse(analysisEvent.Log.AsMemory(FimDbPrefix.Length));
                JsonFieldFlattener.Flatten(document.RootElement, analysisEvent.Fields);
            }
            catch (JsonException)
            {
                // Fields stay empty; rule 230 still sees the message.
            }
        }

        return true;
    }
}
