using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Vigil.Fim.Tests;

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vigil-fim-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One FIM event as the sink received it.</summary>
internal sealed record FimEvent(string Path, string Type, string Mode, JsonElement Data)
{
    public JsonElement Attributes => Data.GetProperty("attributes");

    public string? Attr(string name) =>
        Attributes.TryGetProperty(name, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;

    public string[] Changed =>
        Data.TryGetProperty("changed_attributes", out var c) ? [.. c.EnumerateArray().Select(e => e.GetString()!)] : [];
}

/// <summary>Collects what FIM publishes; waits for conditions with a timeout.</summary>
internal sealed class CollectingSink : IEventSink
{
    private readonly ConcurrentQueue<EventMessage> _messages = new();

    public IReadOnlyList<EventMessage> Messages => [.. _messages];

    public IReadOnlyList<FimEvent> Events => [.. _messages.Where(m => m.Queue == '8').Select(Parse).OfType<FimEvent>()];

    public IReadOnlyList<string> Logs => [.. _messages.Where(m => m.Queue == '1').Select(m => m.Message)];

    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
    {
        _messages.Enqueue(message);
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<FimEvent> For(string path) => [.. Events.Where(e => e.Path == path)];

    public async Task<FimEvent> WaitForAsync(string path, string type, TimeSpan? timeout = null)
    {
        await WaitUntilAsync(() => For(path).Any(e => e.Type == type), timeout ?? TimeSpan.FromSeconds(10), $"{type} {path}");
        return For(path).Last(e => e.Type == type);
    }

    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                var seen = string.Join("\n", Messages.TakeLast(20).Select(m => m.Message));
                throw new TimeoutException($"Timed out waiting for {what}. Last messages:\n{seen}");
            }

            await Task.Delay(20);
        }
    }

    private static FimEvent? Parse(EventMessage m)
    {
        using var doc = JsonDocument.Parse(m.Message);
        var root = doc.RootElement;
        if (root.GetProperty("type").GetString() != "event")
        {
            return null;
        }

        var data = root.GetProperty("data").Clone();
        return new FimEvent(data.GetProperty("path").GetString()!, data.GetProperty("type").GetString()!, data.GetProperty("mode").GetString()!, data);
    }
}

/// <summary>A running FimService over a temp tree.</summary>
internal sealed class FimHarness : IAsyncDisposable
{
    private FimHarness(TempDir temp, string data, CollectingSink sink, FimService service, SyscheckOptions options)
    {
        Temp = temp;
        Data = data;
        Sink = sink;
        Service = service;
        Options = options;
    }

    public TempDir Temp { get; }

    public string Data { get; }

    public CollectingSink Sink { get; }

    public FimService Service { get; private set; }

    public SyscheckOptions Options { get; }

    public string Root => Temp.Combine("watched");

    public static SyscheckOptions DefaultOptions(string root, bool realtime = true, Func<DirectoryOptions, DirectoryOptions>? directory = null) => new()
    {
        Disabled = false,
        MaxEps = 0,
        FileLimit = 0,
        Directories = [(directory ?? (d => d))(new DirectoryOptions { Path = root, Realtime = realtime })],
    };

    public static async Task<FimHarness> StartAsync(Func<string, SyscheckOptions>? options = null, Func<SyscheckOptions, string, CollectingSink, FimService>? create = null, bool createRoot = true, Action<string>? before = null)
    {
        var temp = new TempDir();
        var root = temp.Combine("watched");
        if (createRoot)
        {
            Directory.CreateDirectory(root);
        }

        before?.Invoke(root);
        var resolved = (options ?? (r => DefaultOptions(r)))(root);
        var data = temp.Combine("data");
        var sink = new CollectingSink();
        var service = create?.Invoke(resolved, data, sink) ?? new FimService(resolved, data, sink);
        var harness = new FimHarness(temp, data, sink, service, resolved);
        await service.StartAsync(CancellationToken.None);
        await service.InitialScan.WaitAsync(TimeSpan.FromSeconds(60));
        return harness;
    }

    public async Task RestartAsync(Action? whileStopped = null)
    {
        await Service.StopAsync(CancellationToken.None);
        whileStopped?.Invoke();
        Service = new FimService(Options, Data, Sink);
        await Service.StartAsync(CancellationToken.None);
        await Service.InitialScan.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task IdleAsync(int seconds = 60) => await Service.WaitIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(seconds));

    public async ValueTask DisposeAsync()
    {
        await Service.StopAsync(CancellationToken.None);
        Temp.Dispose();
    }
}

internal static class Hashes
{
    public static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static string Sha1(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Sha256(string text) => Sha256(Encoding.UTF8.GetBytes(text));
}
