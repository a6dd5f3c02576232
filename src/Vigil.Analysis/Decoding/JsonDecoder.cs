using System.Buffers;
using System.Text;

namespace Vigil.Analysis.Decoding;

/// <summary>Wazuh's <c>json</c> decoder: prematch <c>^{\s*"</c>, every key a field (spec §3.9).</summary>
internal sealed class JsonDecoder : IDecoder
{
    private static readonly DecoderInfo s_info = new("json", null, RuleCategories.Syslog);

    public IReadOnlyList<string> Names { get; } = ["json"];

    public bool TryDecode(AnalysisEvent analysisEvent)
    {
        var log = analysisEvent.Log;
        if (!IsJsonPrematch(log))
        {
            return false;
        }

        // Wazuh's plugin leaves the fields empty on a parse error; the decoder still claimed the event.
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(log.Length));
        try
        {
            JsonFieldFlattener.TryFlatten(bytes.AsSpan(0, Encoding.UTF8.GetBytes(log, bytes)), analysisEvent.Fields, allowTrailingText: false);
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
