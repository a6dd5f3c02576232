using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Index;

/// <summary>
/// Alerts on their way to the index share large chunks: every document must come back exactly as given, whether it
/// fits the current chunk, starts a new one or is larger than a chunk, and a reused batch must not keep old alerts.
/// </summary>
public sealed class AlertBatchTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly AlertIndex _index;

    public AlertBatchTests() =>
        _index = new AlertIndex(Path.Combine(_temp.Path, "alerts.db"), new AlertIndexOptions(), new FakeTimeProvider(AlertSamples.Start.AddHours(1)));

    public void Dispose()
    {
        _index.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void Add_DocumentsAcrossChunkBoundariesAndLargerThanAChunk_ComeBackExactly()
    {
        var batch = new AlertBatch();
        var documents = new List<byte[]>();
        var random = new Random(7);
        for (var i = 0; i < 3000; i++)
        {
            // Sizes that leave odd remainders at the end of each chunk, and two documents larger than a chunk.
            var size = i is 1000 or 2000 ? AlertBatch.ChunkSize + 17 : random.Next(1, 2048);
            var bytes = new byte[size];
            random.NextBytes(bytes);
            documents.Add(bytes);
            batch.Add(bytes);
        }

        Assert.Equal(documents.Count, batch.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            Assert.True(documents[i].AsSpan().SequenceEqual(batch.Documents[i].Utf8.Span), $"document {i} changed");
        }

        Assert.True(batch.ChunkBytes >= 2L * AlertBatch.ChunkSize, "the documents must have spread over several chunks");
    }

    [Fact]
    public void Clear_ReusedBatch_HoldsOnlyTheNewDocuments_InTheSameChunks()
    {
        var batch = new AlertBatch();
        for (var i = 0; i < 2000; i++)
        {
            batch.Add(Encoding.UTF8.GetBytes(new string('a', 1000)));
        }

        var chunks = batch.ChunkBytes;
        batch.Clear();
        batch.Add("{\"b\":1}"u8);

        Assert.Equal(1, batch.Count);
        Assert.Equal("{\"b\":1}", Encoding.UTF8.GetString(batch.Documents[0].Utf8.Span));
        Assert.Equal(chunks, batch.ChunkBytes);
    }

    [Fact]
    public void IndexAdd_FromABatch_WithAndWithoutFields_StoresTheDocumentsAndTheirFields()
    {
        var at = AlertSamples.Start;
        var fimId = AlertSamples.NewId(at);
        var fim = AlertSamples.Fim(fimId, at, "/root/caf\u00e9.com", "002", "web-02");
        var verdict = AlertSamples.VirusTotal(AlertSamples.NewId(at), at.AddSeconds(1), "/root/caf\u00e9.com", fimId, "002", "web-02");
        var batch = new AlertBatch();
        batch.Add(Encoding.UTF8.GetBytes(fim), AlertFields.Read(fim));
        batch.Add(Encoding.UTF8.GetBytes(verdict)); // fields read from the document by the index

        var published = new List<IndexedAlert>();
        Assert.Equal(2, _index.Add(batch.Documents, null, published.Add));

        Assert.Equal([fim, verdict], published.Select(a => a.Json));
        var chain = _index.Chain("002", "/root/caf\u00e9.com");
        Assert.Equal([fim, verdict], chain.Steps.Select(s => s.Alert.Json));
        Assert.Equal(fimId, chain.Steps[1].CausedBy);
    }
}
