namespace Vigil.Analysis.Decoding;

/// <summary>
/// A decoder: claims an event it recognises, names it, and extracts its fields. Decoders are tried in
/// registration order; the first that claims an event wins. More decoders plug in here.
/// </summary>
internal interface IDecoder
{
    /// <summary>The names <c>decoded_as</c> may use for this decoder (a parent and the children that inherit its id).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Decodes the event if it is this decoder's kind; sets <see cref="AnalysisEvent.Decoder"/> and the fields.</summary>
    public bool TryDecode(AnalysisEvent analysisEvent);
}
