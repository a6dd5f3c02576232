using System.Buffers;
using System.Text;

namespace Vigil.Analysis.Decoding;

/// <summary>
/// Wazuh's <c>ar_log_json</c>: an active-responses.log line <c>YYYY/MM/DD HH:MM:SS active-response/bin/NAME: {json} …</c>;
/// the JSON after the prefix is decoded and any trailing text (" Successfully removed threat") ignored (spec §5.6).
/// </summary>
internal sealed class ArLogJsonDecoder : IDecoder
{
    private const string ProgramPrefix = "active-response/bin/";
    private static readonly DecoderInfo s_info = new("ar_log_json", "ar_log_json", RuleCategories.Syslog);

    public IReadOnlyList<string> Names { get; } = ["ar_log_json"];

    public bool TryDecode(AnalysisEvent analysisEvent)
    {
        var log = analysisEvent.Log;
        var jsonStart = MatchPrematch(log);
        if (jsonStart < 0)
        {
            return false;
        }

        analysisEvent.Decoder = s_info;
        var json = log.AsSpan(jsonStart);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            Decode(analysisEvent, bytes.AsSpan(0, Encoding.UTF8.GetBytes(json, bytes)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        return true;
    }

    // The JSON after the prefix; trailing text such as " Successfully removed threat" is ignored. Not JSON: the
    // decoder still matched, with no fields.
    private static void Decode(AnalysisEvent analysisEvent, ReadOnlySpan<byte> utf8) =>
        JsonFieldFlattener.TryFlatten(utf8, analysisEvent.Fields, allowTrailingText: true);

    /// <summary>Returns the offset after <c>^\d\d\d\d/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/\S+: </c>, or -1.</summary>
    internal static int MatchPrematch(string log)
    {
        const string Shape = "dddd/dd/dd dd:dd:dd ";
        if (log.Length < Shape.Length + ProgramPrefix.Length + 3)
        {
            return -1;
        }

        for (var i = 0; i < Shape.Length; i++)
        {
            if (Shape[i] == 'd' ? !char.IsAsciiDigit(log[i]) : log[i] != Shape[i])
            {
                return -1;
            }
        }

        if (!log.AsSpan(Shape.Length).StartsWith(ProgramPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        var i2 = Shape.Length + ProgramPrefix.Length;
        var nameStart = i2;
        while (i2 < log.Length && log[i2] != ' ')
        {
            i2++;
        }

        // \S+ is greedy: the program name runs to the first space and must end with ':' followed by a space.
        return i2 > nameStart + 1 && i2 < log.Length && log[i2 - 1] == ':' ? i2 + 1 : -1;
    }
}
