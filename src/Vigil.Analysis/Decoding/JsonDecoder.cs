using System.Buffers;
using System.Text;

namespace Vigil.Analysis.Decoding;

/// <summary>Wazuh's <c>json</c> decoder: prematch <c>^{\s*"</c>, every key a field (spec §3.9).</summary>
internal sealed class JsonDecoder : IDecoder
{
    private static readonly DecoderInfo s_info = new("json", null, RuleCategories.Syslog);

    public IReadOnlyList<string> Names { get; } = ["json"];

    /// <summary>The locations of the integrations' results (VirusTotal's and Vigil's local lists'): each is one JSON object.</summary>
    public static IReadOnlySet<string> IntegrationLocations { get; } = new HashSet<string>(StringComparer.Ordinal) { "virustotal", "vigil-intel" };

    public bool TryDecode(AnalysisEvent analysisEvent)
    {
        var log = analysisEvent.Log;
        var isIntegration = analysisEvent.Queue == Core.Events.EventMessage.LocalFileQueue && IntegrationLocations.Contains(analysisEvent.Location);
        if (!IsJsonPrematch(log))
        {
            return isIntegration && analysisEvent.Invalid($"not a result of integration {analysisEvent.Location}: not a JSON object");
        }

        // Wazuh's plugin leaves the fields empty on a parse error; the decoder still claimed the event. An integration's
        // result that is not valid JSON is invalid instead: the integration wrote it, so it is broken, not odd.
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(log.Length));
        try
        {
            if (!JsonFieldFlattener.TryFlatten(bytes.AsSpan(0, Encoding.UTF8.GetBytes(log, bytes)), analysisEvent.Fields, allowTrailingText: false) && isIntegration)
            {
                return analysisEvent.Invalid($"not a result of integration {analysisEvent.Location}: invalid JSON");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        analysisEvent.Decoder = s_info;
        return true;
    }

    private static bool IsJsonPrematch(string log)
    {
        if (log.Length < 2 || log[0] != '{')
        {
            return false;
        }

        var i = 1;
        while (i < log.Length && log[i] == ' ')
        {
            i++;
        }

        return i < log.Length && log[i] == '"';
    }
}
