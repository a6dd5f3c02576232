namespace Vigil.Web.Index;

/// <summary>
/// Alerts on their way to the index, one batch at a time. Each document's UTF-8 is copied into chunks the batch keeps
/// and reuses, so alerts waiting for the index are a few large long-lived arrays rather than a million small ones that
/// the garbage collector would copy from generation to generation. A batch is filled on one thread, then handed over
/// whole; <see cref="Clear"/> makes it ready for reuse.
/// </summary>
internal sealed class AlertBatch
{
    /// <summary>The size of a chunk; a document larger than this gets an array of its own.</summary>
    public const int ChunkSize = 1 << 20;

    private readonly List<byte[]> _chunks = [];
    private readonly List<AlertDocument> _documents = [];
    private int _chunk = -1;
    private int _used;

    public IReadOnlyList<AlertDocument> Documents => _documents;

    public int Count => _documents.Count;

    /// <summary>
    /// Adds one alert document (its UTF-8 is copied), with its fields when the caller knows them, and the agent's event
    /// it is of, if any.
    /// </summary>
    public void Add(ReadOnlySpan<byte> utf8, AlertFields? fields = null, AlertEventKey? source = null)
    {
        if (utf8.Length > ChunkSize)
        {
            _documents.Add(new AlertDocument(utf8.ToArray(), fields, source));
            return;
        }

        if (_chunk < 0 || _used + utf8.Length > ChunkSize)
        {
            _chunk++;
            if (_chunk == _chunks.Count)
            {
                _chunks.Add(GC.AllocateUninitializedArray<byte>(ChunkSize));
            }

            _used = 0;
        }

        var memory = _chunks[_chunk].AsMemory(_used, utf8.Length);
        utf8.CopyTo(memory.Span);
        _used += utf8.Length;
        _documents.Add(new AlertDocument(memory, fields, source));
    }

    /// <summary>Empties the batch, keeping its chunks for the next one (the documents handed out become invalid).</summary>
    public void Clear()
    {
        _documents.Clear();
        _chunk = -1;
        _used = 0;
    }

    /// <summary>The bytes of the chunks this batch holds (kept across <see cref="Clear"/>).</summary>
    public long ChunkBytes => (long)_chunks.Count * ChunkSize;
}
