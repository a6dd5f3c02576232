using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Vigil.Core;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Engines;
using Vigil.Intel.Files;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.ClamAv;

/// <summary>FILDES pipelined on one IDSESSION: a real clamd (started here) for verdicts and failures, a fake peer for bad replies.</summary>
public sealed class ClamdSessionTests : IAsyncLifetime
{
    private readonly TempDirectory _files = new("vigil-clamd-session");
    private ClamdProcess _clamd = null!;

    public async Task InitializeAsync() => _clamd = await ClamdProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _clamd.DisposeAsync();
        _files.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task ScanAsync_ManyAtOnceOnOneSession_EachVerdictIsItsOwnFiles()
    {
        using var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath, Timeout = TimeSpan.FromSeconds(30) });
        Assert.Equal(16, engine.MaxConcurrentScans); // MaxThreads 4 in the clamd.conf written here: 4 × 4
        var files = Enumerable.Range(0, 300).Select(i => (Path: Write($"f{i}.bin", Content(i)), Expected: Expected(i))).ToList();

        var results = new EngineResult[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions { MaxDegreeOfParallelism = 48 }, async (i, _) =>
            results[i] = await ScanAsync(engine, files[i].Path));

        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i].Expected, (results[i].Outcome, results[i].Name));
        }

        // The requests really were pipelined on one session, and never beyond the bound.
        Assert.InRange(engine.Client.PeakInFlight, 2, engine.MaxConcurrentScans);
    }

    [Fact(Timeout = 120_000)]
    public async Task ScanAsync_ClamdKilledWithScansInFlight_EachUnavailableAtOnceThenScansResume()
    {
        var timeout = TimeSpan.FromSeconds(30);
        using var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath, Timeout = timeout });
        var eicar = Write("eicar.com", Eicar.Bytes);
        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome); // the session is open

        _clamd.Pause();
        var clock = Stopwatch.StartNew();
        var scans = Enumerable.Range(0, 20).Select(_ => ScanAsync(engine, eicar)).ToList();
        await WaitUntilAsync(() => engine.Client.InFlight == engine.MaxConcurrentScans);
        await _clamd.KillAsync();

        var down = await Task.WhenAll(scans);
        Assert.All(down, r => Assert.Equal(EngineOutcome.Unavailable, r.Outcome));
        Assert.All(down, r => Assert.Contains(_clamd.SocketPath, r.Detail, StringComparison.Ordinal));
        Assert.True(clock.Elapsed < timeout / 2, $"the pending scans took {clock.Elapsed} to answer"); // at once, not by the deadline

        await _clamd.StartAsync();
        Assert.Equal(ClamAvHealth.Up, await engine.CheckAsync(CancellationToken.None));
        var files = Enumerable.Range(0, 30).Select(i => (Path: Write($"g{i}.bin", Content(i)), Expected: Expected(i))).ToList();
        var back = await Task.WhenAll(files.Select(f => ScanAsync(engine, f.Path)));
        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i].Expected, (back[i].Outcome, back[i].Name));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ScanAsync_ClamdFrozenPastTheDeadline_EachUnavailableByItsDeadlineThenScansResume()
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath, Timeout = timeout });
        var eicar = Write("eicar.com", Eicar.Bytes);
        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome);

        _clamd.Pause();
        try
        {
            var clock = Stopwatch.StartNew();
            var down = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => ScanAsync(engine, eicar)));
            Assert.All(down, r => Assert.Equal(EngineOutcome.Unavailable, r.Outcome));
            Assert.All(down, r => Assert.Contains($"did not answer FILDES within 2 s for {eicar}", r.Detail, StringComparison.Ordinal));
            Assert.InRange(clock.Elapsed, timeout * 0.9, timeout * 4);
        }
        finally
        {
            _clamd.Resume();
        }

        // The five were abandoned, not the session: their late replies are read and dropped on the same connection.
        await WaitUntilAsync(() => engine.Client.Abandoned == 0);
        Assert.Equal((EngineOutcome.Detected, ClamdProcess.EicarSignature), Pair(await ScanAsync(engine, eicar)));
        Assert.Equal(1, engine.Client.SessionsOpened);
    }

    [Fact(Timeout = 60_000)]
    public async Task ScanDescriptorAsync_OneRequestPastItsDeadline_OnlyItIsUnavailableTheSessionGoesOn()
    {
        // Request 1 is answered only after its caller gave up; 2 at once; 3 after 1's late reply, all on one connection.
        var isFirstRead = new TaskCompletionSource();
        var isFirstAbandoned = new TaskCompletionSource();
        var connections = 0;
        await using var peer = new FakeClamd(_files.Combine("fake-late.sock"), async socket =>
        {
            var requests = await SessionRequests.StartAsync(socket);
            if (Interlocked.Increment(ref connections) > 1)
            {
                await requests.AnswerEachAsync(); // a new session (the old behaviour): everything at once
                return;
            }

            await requests.NextAsync(1);
            isFirstRead.SetResult();
            await requests.NextAsync(2);
            await requests.SendAsync("2: fd[3]: OK");
            await requests.NextAsync(3);
            await isFirstAbandoned.Task;
            await requests.SendAsync("1: fd[3]: OK"); // late
            await requests.SendAsync("3: fd[3]: OK");
            await requests.AnswerEachAsync();
        });
        var timeout = TimeSpan.FromSeconds(2);
        using var client = new ClamdClient(new ClamdEndpoint(peer.Path, null, 0), timeout);
        var slowPath = Write("slow.txt", "slow\n"u8.ToArray());
        await using var slow = RegularFile.TryOpen(slowPath, out _)!;
        await using var fast = RegularFile.TryOpen(Write("fast.txt", "fast\n"u8.ToArray()), out _)!;

        var first = client.ScanDescriptorAsync(slow.SafeFileHandle, CancellationToken.None);
        await isFirstRead.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.IsType<ClamdReply.Clean>(await client.ScanDescriptorAsync(fast.SafeFileHandle, CancellationToken.None));
        await Task.Delay(timeout / 2); // so that the third's deadline comes well after the first's
        var third = client.ScanDescriptorAsync(fast.SafeFileHandle, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<ClamdUnavailableException>(() => first);
        Assert.Equal($"clamd at {peer.Path} did not answer FILDES within 2 s for {slowPath}", ex.Message);
        Assert.False(third.IsCompleted);
        Assert.Equal(1, client.Abandoned);
        isFirstAbandoned.SetResult();

        Assert.IsType<ClamdReply.Clean>(await third);
        Assert.Equal(0, client.Abandoned); // the late reply came before the third's, and was dropped
        Assert.IsType<ClamdReply.Clean>(await client.ScanDescriptorAsync(fast.SafeFileHandle, CancellationToken.None));
        Assert.Equal(1, peer.Connections);
    }

    [Fact(Timeout = 60_000)]
    public async Task ScanDescriptorAsync_MoreAbandonedThanMaxInFlight_TheSessionEnds()
    {
        await using var peer = new FakeClamd(_files.Combine("fake-stuck.sock"), async socket =>
        {
            var requests = await SessionRequests.StartAsync(socket);
            while (await requests.NextAsync() > 0)
            {
                // never answered
            }
        });
        var timeout = TimeSpan.FromSeconds(0.5);
        using var client = new ClamdClient(new ClamdEndpoint(peer.Path, null, 0), timeout, maxInFlight: 2);
        await using var file = RegularFile.TryOpen(Write("stuck.txt", "stuck\n"u8.ToArray()), out _)!;

        async Task<string> TimedOutAsync() =>
            (await Assert.ThrowsAsync<ClamdUnavailableException>(() => client.ScanDescriptorAsync(file.SafeFileHandle, CancellationToken.None))).Message;

        for (var i = 1; i <= 2; i++)
        {
            Assert.Contains("did not answer FILDES within 0.5 s", await TimedOutAsync(), StringComparison.Ordinal);
            Assert.Equal(1, peer.Connections); // one abandoned request does not end the session
            Assert.Equal(i, client.Abandoned);
        }

        await TimedOutAsync(); // a third, over the bound of 2: the session ends
        Assert.Equal(0, client.Abandoned);
        await TimedOutAsync();
        Assert.Equal(2, peer.Connections);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("unknown-id", "sent a reply to request 7, which is not in flight")]
    [InlineData("garbage", "sent a reply without a request number ('hello there')")]
    [InlineData("mid-reply", "closed the session in the middle of a reply ('1: fd[3]: O')")]
    [InlineData("closes", "closed the session with 1 scan(s) in flight")]
    [InlineData("too-long", "sent a reply longer than")]
    [InlineData("silent", "did not answer FILDES within 1 s")]
    public async Task ScanDescriptorAsync_BadPeer_ClearErrorNamingThePeerNoHang(string behaviour, string expected)
    {
        await using var peer = new FakeClamd(_files.Combine($"fake-{behaviour}.sock"), async socket =>
        {
            await ReadRequestAsync(socket);
            switch (behaviour)
            {
                case "unknown-id":
                    await socket.SendAsync("7: fd[3]: OK\0"u8.ToArray(), SocketFlags.None);
                    break;
                case "garbage":
                    await socket.SendAsync("hello there\0"u8.ToArray(), SocketFlags.None);
                    break;
                case "mid-reply":
                    await socket.SendAsync("1: fd[3]: O"u8.ToArray(), SocketFlags.None);
                    return; // and close
                case "closes":
                    return;
                case "too-long":
                    await socket.SendAsync(Encoding.ASCII.GetBytes("1: " + new string('A', 9000)), SocketFlags.None);
                    break;
                default:
                    break;
            }

            await Task.Delay(TimeSpan.FromSeconds(5)); // holds the connection open past the client's deadline
        });
        var timeout = TimeSpan.FromSeconds(1);
        using var client = new ClamdClient(new ClamdEndpoint(peer.Path, null, 0), timeout);
        await using var file = RegularFile.TryOpen(Write("clean.txt", "hello\n"u8.ToArray()), out _)!;

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ClamdUnavailableException>(() => client.ScanDescriptorAsync(file.SafeFileHandle, CancellationToken.None));

        Assert.StartsWith($"clamd at {peer.Path}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < timeout * 3, $"answered after {clock.Elapsed}");
    }

    [Theory]
    [InlineData("1: fd[12]: OK", 1, "Clean")]
    [InlineData("4294: stream: Eicar-Test FOUND", 4294, "Found")]
    [InlineData("12: fd[9]: lstat() failed: No such file ERROR", 12, "Error")]
    [InlineData("3: fd[12]: what", 3, "Malformed")]
    [InlineData("fd[12]: OK", 0, null)]
    [InlineData("01: fd[12]: OK", 0, null)]
    [InlineData("0: fd[12]: OK", 0, null)]
    [InlineData("1:fd[12]: OK", 0, null)]
    [InlineData("99999999999: fd[12]: OK", 0, null)]
    [InlineData("", 0, null)]
    public void Parse_ReplyNamesItsRequest(string line, int id, string? kind)
    {
        var reply = ClamdSession.Parse(Encoding.ASCII.GetBytes(line), new char[ClamdReply.MaxLength + 1], out var parsed);
        Assert.Equal(kind, reply?.GetType().Name);
        Assert.Equal(id, parsed);
    }

    // Seeded and time-bounded: any bytes give a reply or null, never an exception; a reply only after "{id}: ".
    [Fact]
    public void Parse_Fuzz_NeverThrowsAndOnlyNumberedRepliesParse()
    {
        var random = new Random(1616);
        var seeds = new[] { "1: fd[5]: OK", "23: fd[7]: Vigil.Test.Eicar.HDB.UNOFFICIAL FOUND", "4: fd[3]: Can't open ERROR", "7: PONG", "12: stream: OK" };
        var text = new char[ClamdReply.MaxLength + 1];
        var clock = Stopwatch.StartNew();
        var cases = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2) && cases < 200_000)
        {
            var line = random.Next(4) == 0
                ? RandomBytes(random)
                : Mutate(random, Encoding.ASCII.GetBytes(seeds[random.Next(seeds.Length)]));
            var reply = ClamdSession.Parse(line, text, out var id);
            if (reply is null)
            {
                Assert.Equal(0, id);
            }
            else
            {
                Assert.True(id > 0);
                Assert.StartsWith($"{id}: ", Encoding.Latin1.GetString(line), StringComparison.Ordinal);
                if (reply is ClamdReply.Found found)
                {
                    Assert.EndsWith($" {found.Signature} FOUND", Encoding.Latin1.GetString(line), StringComparison.Ordinal);
                }
            }

            cases++;
        }

        Assert.True(cases > 1000, $"only {cases} cases ran");
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, random.Next(2) == 0 ? 40 : 6000)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = new List<byte>(seed);
        for (var edits = random.Next(0, 4); edits > 0; edits--)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next('0', ':' + 1);
                    break;
                default:
                    bytes.InsertRange(at, Encoding.ASCII.GetBytes(random.Next(3) switch { 0 => " FOUND", 1 => ": ", _ => "9" }));
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] Content(int i) => (i % 3) switch
    {
        0 => Eicar.Bytes,
        1 => Encoding.ASCII.GetBytes($"<?php {ClamdProcess.WebshellMarker}'c{i}']); ?>"),
        _ => Encoding.ASCII.GetBytes($"clean {i}\n"),
    };

    private static (EngineOutcome, string?) Expected(int i) => (i % 3) switch
    {
        0 => (EngineOutcome.Detected, ClamdProcess.EicarSignature),
        1 => (EngineOutcome.Detected, ClamdProcess.WebshellSignature),
        _ => (EngineOutcome.Clean, null),
    };

    private static (EngineOutcome, string?) Pair(EngineResult result) => (result.Outcome, result.Name);

    private string Write(string name, byte[] content)
    {
        var path = _files.Combine(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static async Task<EngineResult> ScanAsync(IFileEngine engine, string path)
    {
        await using var stream = RegularFile.TryOpen(path, out var error) ?? throw new InvalidOperationException(error);
        return await engine.ScanAsync(stream, CancellationToken.None);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the condition did not hold within 20 s");
            await Task.Delay(20);
        }
    }

    // Up to the end of the first FILDES request (its descriptor is dropped: a plain recv takes no control data).
    private static async Task ReadRequestAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[256];
        while (received.Count < 200 && !Encoding.ASCII.GetString([.. received]).Contains("zFILDES\0\0", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (read == 0)
            {
                return;
            }

            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    /// <summary>The requests of one session as a peer reads them: IDSESSION, then FILDES after FILDES (9 bytes each).</summary>
    private sealed class SessionRequests
    {
        private readonly Socket _socket;
        private int _read;

        private SessionRequests(Socket socket) => _socket = socket;

        public static async Task<SessionRequests> StartAsync(Socket socket)
        {
            var requests = new SessionRequests(socket);
            Assert.Equal("zIDSESSION\0", Encoding.ASCII.GetString(await requests.ReadAsync("zIDSESSION\0".Length) ?? []));
            return requests;
        }

        /// <summary>The next request's number, or 0 when the client closed the connection.</summary>
        public async Task<int> NextAsync()
        {
            if (await ReadAsync("zFILDES\0\0".Length) is not { } request)
            {
                return 0;
            }

            Assert.Equal("zFILDES\0\0", Encoding.ASCII.GetString(request));
            return ++_read;
        }

        public async Task NextAsync(int expected) => Assert.Equal(expected, await NextAsync());

        public Task SendAsync(string reply) => _socket.SendAsync(Encoding.ASCII.GetBytes(reply + "\0"), SocketFlags.None);

        /// <summary>Answers each request that comes OK at once, until the client closes the connection.</summary>
        public async Task AnswerEachAsync()
        {
            int id;
            while ((id = await NextAsync()) > 0)
            {
                await SendAsync($"{id}: fd[3]: OK");
            }
        }

        private async Task<byte[]?> ReadAsync(int length)
        {
            var bytes = new byte[length];
            for (var at = 0; at < length;)
            {
                var read = await _socket.ReceiveAsync(bytes.AsMemory(at), SocketFlags.None);
                if (read == 0)
                {
                    return null;
                }

                at += read;
            }

            return bytes;
        }
    }

    /// <summary>A unix-socket peer that runs <c>handler</c> on each connection, then closes it.</summary>
    private sealed class FakeClamd : IAsyncDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _connections;

        public FakeClamd(string path, Func<Socket, Task> handler)
        {
            Path = path;
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(8);
            _accepting = AcceptAsync(handler);
        }

        public string Path { get; }

        /// <summary>Connections accepted so far.</summary>
        public int Connections => Volatile.Read(ref _connections);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Dispose();
            await _accepting;
            _stop.Dispose();
            File.Delete(Path);
        }

        private async Task AcceptAsync(Func<Socket, Task> handler)
        {
            var connections = new List<Task>();
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    connections.Add(Task.Run(async () =>
                    {
                        using (socket)
                        {
                            try
                            {
                                await handler(socket).WaitAsync(_stop.Token);
                            }
                            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                            {
                            }
                        }
                    }));
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }

            await Task.WhenAll(connections);
        }
    }
}
