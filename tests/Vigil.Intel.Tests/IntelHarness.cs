using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel.Selection;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Intel.Tests;

/// <summary>Collects published events.</summary>
internal sealed class RecordingSink : IEventSink
{
    private readonly ConcurrentQueue<EventMessage> _messages = new();

    public IReadOnlyList<EventMessage> Messages => [.. _messages];

    public int Count => _messages.Count;

    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
    {
        _messages.Enqueue(message);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Builds FIM alerts as alerts.json holds them (rule 554, location syscheck).</summary>
internal static class Alerts
{
    private static int s_sequence;

    public static string Fim(
        EmulatedFile file, string path = "/root/x", string agentId = "001", string agentName = "web", string? agentIp = "10.0.0.5",
        string mode = "realtime", string? id = null, string size = "68", string ruleId = "554", int level = 5) =>
        Fim(file.Md5, file.Sha1, file.Sha256, path, agentId, agentName, agentIp, mode, id, size, ruleId, level);

    public static string Fim(
        string? md5, string? sha1, string? sha256, string path = "/root/x", string agentId = "001", string agentName = "web",
        string? agentIp = "10.0.0.5", string mode = "realtime", string? id = null, string size = "68", string ruleId = "554", int level = 5)
    {
        id ??= $"1700000000.{Interlocked.Increment(ref s_sequence)}";
        var ip = agentIp is null ? "" : $",\"ip\":\"{agentIp}\"";
        var hashes = (md5 is null ? "" : $",\"md5_after\":\"{md5}\"") + (sha1 is null ? "" : $",\"sha1_after\":\"{sha1}\"")
            + (sha256 is null ? "" : $",\"sha256_after\":\"{sha256}\"");
        return $"{{\"timestamp\":\"2023-11-14T22:13:20.000+0000\",\"rule\":{{\"level\":{level},\"description\":\"File added to the system.\",\"id\":\"{ruleId}\",\"firedtimes\":1,\"mail\":false,\"groups\":[\"ossec\",\"syscheck\",\"syscheck_entry_added\",\"syscheck_file\"]}},"
            + $"\"agent\":{{\"id\":\"{agentId}\",\"name\":\"{agentName}\"{ip}}},\"manager\":{{\"name\":\"manager\"}},\"id\":\"{id}\",\"full_log\":\"File '{path}' added\",\"decoder\":{{\"name\":\"syscheck_new_entry\"}},"
            + $"\"syscheck\":{{\"path\":\"{path}\",\"mode\":\"{mode}\",\"size_after\":\"{size}\",\"perm_after\":\"rw-r--r--\",\"uid_after\":\"0\",\"gid_after\":\"0\"{hashes},\"event\":\"added\"}},\"location\":\"syscheck\"}}";
    }
}

/// <summary>An intelligence service wired to a VirusTotal emulator on a fake clock, in a temp directory.</summary>
internal sealed class IntelHarness : IAsyncDisposable
{
    public const string Key = "test-key";

    private IntelHarness(VirusTotalEmulator emulator, FakeTimeProvider time, string directory, IntelOptions options)
    {
        Emulator = emulator;
        Time = time;
        Directory = directory;
        Options = options;
    }

    public VirusTotalEmulator Emulator { get; }

    public FakeTimeProvider Time { get; }

    public string Directory { get; }

    public IntelOptions Options { get; set; }

    public RecordingSink Sink { get; } = new();

    public IntelService Service { get; private set; } = null!;

    public string DatabasePath => Path.Combine(Directory, "intel.db");

    public static async Task<IntelHarness> StartAsync(Func<IntelOptions, IntelOptions>? configure = null, bool start = true)
    {
        // 2024-03-01 12:00 UTC: a known distance from the next UTC midnight.
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var emulator = await VirusTotalEmulator.StartAsync(time);
        var directory = System.IO.Directory.CreateTempSubdirectory("vigil-intel-").FullName;
        var options = new IntelOptions
        {
            ApiKey = new Secret(Key),
            BaseUrl = emulator.BaseUrl,
            TrustedCertificate = emulator.WriteCertificatePem(Path.Combine(directory, "vt.pem")),
            // Real time (HttpClient's), and generous: a loaded CI machine must not turn a slow answer into a retry.
            // The timeout tests set their own short value.
            Timeout = TimeSpan.FromSeconds(5),
            Retries = 3,
        };
        var harness = new IntelHarness(emulator, time, directory, configure?.Invoke(options) ?? options);
        harness.CreateService();
        if (start)
        {
            harness.Service.Start();
        }

        return harness;
    }

    public static AlertSelector SyscheckSelector() => new(new IntegrationOptions { Name = "virustotal", Groups = ["syscheck"] });

    public IntelService CreateService()
    {
        Service = new IntelService(Options, SyscheckSelector(), Sink, IntelStore.Open(DatabasePath), Time, logger: null, http: null);
        return Service;
    }

    public async Task RestartAsync()
    {
        await Service.DisposeAsync();
        CreateService();
        Service.Start();
    }

    public ValueTask SendAsync(string alert) => Service.OnAlertAsync(alert, CancellationToken.None);

    /// <summary>
    /// Waits for <paramref name="condition"/>, moving the fake clock to the worker's next wake-up whenever it waits
    /// for a quota window or a back-off. Real time is only spent on real I/O.
    /// </summary>
    public async Task DriveUntilAsync(Func<bool> condition, int timeoutSeconds = 30)
    {
        var deadline = Environment.TickCount64 + (timeoutSeconds * 1000L);
        (DateTimeOffset Until, long Since)? reached = null;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"condition not reached; {Sink.Count} events, {Service.PendingCount} pending, waiting until {Service.WaitingUntil:O}, idle {Service.IsIdle}, clock {Time.GetUtcNow():O}");

            // A wait whose end the clock has reached, still shown a second later: its timer is due a moment after the end
            // shown (a real clock would move on by itself). Move the fake clock a millisecond, as the real one would.
            if (Service.WaitingUntil is { } shown && shown <= Time.GetUtcNow())
            {
                if (reached is not { } seen || seen.Until != shown)
                {
                    reached = (shown, Environment.TickCount64);
                }
                else if (Environment.TickCount64 - seen.Since > 1000)
                {
                    Time.Advance(TimeSpan.FromMilliseconds(1));
                    reached = null;
                }
            }

            // Jump to the end of the wait, and only while it lies ahead: once it has passed, the worker is waking and
            // may be sending a request, and moving the fake clock then would fire that request's timeout.
            if (Service.WaitingUntil is { } until && until > Time.GetUtcNow())
            {
                // The wait may be what the condition looks for (it began after the check above): moving the clock now
                // would end it before the condition could see it.
                if (condition())
                {
                    return;
                }

                Time.Advance(until - Time.GetUtcNow());
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Lets the worker run until it has nothing left to do now (idle or waiting), without moving the clock.</summary>
    public async Task SettleAsync()
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (!(Service.IsIdle || Service.WaitingUntil is not null))
        {
            Assert.True(Environment.TickCount64 < deadline, "worker did not settle");
            await Task.Delay(2);
        }
    }

    public IReadOnlyList<string> Bodies(string integration = "virustotal") =>
        Sink.Messages.Select(m => m.Message).Where(m => m.EndsWith($"\"integration\": \"{integration}\"}}", StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await Emulator.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
