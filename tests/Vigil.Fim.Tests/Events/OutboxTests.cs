using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Events;
using Vigil.Fim.Baseline;
using Vigil.Fim.Events;

namespace Vigil.Fim.Tests.Events;

public sealed class OutboxTests
{
    [Fact(Timeout = 30_000)]
    public async Task Run_MaxEpsReached_WaitsForNextSecondWithoutDropping()
    {
        using var temp = new TempDir();
        using var store = new BaselineStore(temp.Combine("fim.db"));
        for (var i = 0; i < 5; i++)
        {
            store.Enqueue(new EventMessage('1', "syscheck", $"m{i}"));
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var sink = new CollectingSink();
        var outbox = new Outbox(store.ConnectionString, sink, maxEps: 2, time);
        using var cts = new CancellationTokenSource();
        var run = outbox.RunAsync(cts.Token);

        await sink.WaitUntilAsync(() => sink.Messages.Count == 2, TimeSpan.FromSeconds(5), "first two");
        await Task.Delay(200);
        Assert.Equal(2, sink.Messages.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitUntilAsync(() => sink.Messages.Count == 4, TimeSpan.FromSeconds(5), "next two");
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitUntilAsync(() => sink.Messages.Count == 5, TimeSpan.FromSeconds(5), "last");

        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], sink.Messages.Select(m => m.Message));
        await cts.CancelAsync();
        await run;
        Assert.False(outbox.HasBacklog());
    }
}
