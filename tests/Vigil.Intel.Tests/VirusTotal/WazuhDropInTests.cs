using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vigil.Intel.VirusTotal;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Intel.Tests.VirusTotal;

/// <summary>The drop-in against the emulator, reading its datagrams from a real unix socket.</summary>
public sealed class WazuhDropInTests : IAsyncLifetime
{
    private static readonly EmulatedFile s_malicious = EmulatedFile.Synthetic("dropin-malicious", malicious: 7, undetected: 55);
    private static readonly EmulatedFile s_clean = EmulatedFile.Synthetic("dropin-clean", malicious: 0);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("vigil-dropin-").FullName;
    private VirusTotalEmulator _emulator = null!;
    private Socket _queue = null!;
    private string _optionsFile = "";

    private string SocketPath => Path.Combine(_directory, "queue");

    public async Task InitializeAsync()
    {
        _emulator = await VirusTotalEmulator.StartAsync(_time);
        _emulator.Add(s_malicious).Add(s_clean);
        _queue = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _queue.Bind(new UnixDomainSocketEndPoint(SocketPath));
        var pem = _emulator.WriteCertificatePem(Path.Combine(_directory, "vt.pem"));
        _optionsFile = Path.Combine(_directory, "virustotal-1700000000-123.options");
        await File.WriteAllTextAsync(_optionsFile, $"{{\"base_url\": \"{_emulator.BaseUrl}\", \"trusted_certificate\": \"{pem}\"}}");
    }

    public async Task DisposeAsync()
    {
        _queue.Dispose();
        await _emulator.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task RunAsync_Malicious_SendsWazuhsDatagramByteForByte()
    {
        var (code, datagrams) = await RunAsync(Alerts.Fim(s_malicious, path: "/root/eicar.com", id: "1700000000.555"));

        Assert.Equal(0, code);
        var f = s_malicious;
        // python3: '1:{0}->virustotal:{1}'.format('[001] (web) 10.0.0.5', json.dumps(alert_output)) with virustotal.py's dict.
        Assert.Equal(
            "1:[001] (web) 10.0.0.5->virustotal:{\"virustotal\": {\"found\": 1, \"malicious\": 1, \"source\": {\"alert_id\": \"1700000000.555\", "
            + $"\"file\": \"/root/eicar.com\", \"md5\": \"{f.Md5}\", \"sha1\": \"{f.Sha1}\"}}, \"sha1\": \"{f.Sha1}\", \"scan_date\": \"2023-11-14 22:13:20\", "
            + $"\"positives\": 7, \"total\": 62, \"permalink\": \"https://www.virustotal.com/gui/file/{f.Sha256}/detection\"}}, \"integration\": \"virustotal\"}}",
            Assert.Single(datagrams));
    }

    [Fact]
    public async Task RunAsync_Unknown_SendsFoundZero()
    {
        var unknown = EmulatedFile.Synthetic("dropin-unknown", 0);
        var (code, datagrams) = await RunAsync(Alerts.Fim(unknown, id: "1.2", agentName: "a|b:c"));

        Assert.Equal(0, code);
        Assert.Equal(
            "1:[001] (a||b|:c) 10.0.0.5->virustotal:{\"virustotal\": {\"found\": 0, \"malicious\": 0, \"source\": {\"alert_id\": \"1.2\", "
            + $"\"file\": \"/root/x\", \"md5\": \"{unknown.Md5}\", \"sha1\": \"{unknown.Sha1}\"}}}}, \"integration\": \"virustotal\"}}",
            Assert.Single(datagrams));
    }

    [Fact]
    public async Task RunAsync_Quota_OneWazuh204ThenLaterRunAnswersTheQueuedLookup()
    {
        _emulator.EnqueueFault(EmulatorFault.Quota429);

        var (code, datagrams) = await RunAsync(Alerts.Fim(s_malicious, path: "/a"));
        Assert.Equal(4, code);
        Assert.Equal("1:virustotal:{\"virustotal\": {\"error\": 204, \"description\": \"Error: Public API request rate limit reached\"}, \"integration\": \"virustotal\"}",
            Assert.Single(datagrams));

        (code, datagrams) = await RunAsync(Alerts.Fim(s_clean, path: "/b"));
        Assert.Equal(4, code);
        Assert.Empty(datagrams);

        _time.Advance(TimeSpan.FromMinutes(1));
        (code, datagrams) = await RunAsync(Alerts.Fim(s_clean, path: "/c"));
        Assert.Equal(0, code);
        Assert.Equal(3, datagrams.Count);
        // Newest hash first; files sharing a hash in arrival order.
        Assert.Equal(["/b", "/c", "/a"], datagrams.Select(d => d.Split("\"file\": \"")[1].Split('"')[0]));
        Assert.Equal(3, _emulator.LookupCount);
    }

    [Fact]
    public async Task RunAsync_WrongKey_SendsWazuhs403()
    {
        var (code, datagrams) = await RunAsync(Alerts.Fim(s_clean), key: "bad");

        Assert.Equal(4, code);
        Assert.Equal("1:virustotal:{\"virustotal\": {\"error\": 403, \"description\": \"Error: Check credentials\"}, \"integration\": \"virustotal\"}",
            Assert.Single(datagrams));
    }

    [Fact]
    public async Task RunAsync_Timeouts_SendsWazuhs408AfterRetries()
    {
        _emulator.PersistentFault = EmulatorFault.Hang;

        var (code, datagrams) = await RunAsync(Alerts.Fim(s_clean), timeout: "1", retries: "1 > /dev/null 2>&1");

        Assert.Equal(4, code);
        Assert.Equal("1:virustotal:{\"virustotal\": {\"error\": 408, \"description\": \"Error: API request timed out\"}, \"integration\": \"virustotal\"}",
            Assert.Single(datagrams));

        // Two attempts (retries + 1); on a loaded machine the TLS handshake of one can outlast the 1 s timeout before
        // the request reaches the server, so the server may count one.
        Assert.InRange(_emulator.LookupCount, 1, 2);
    }

    [Fact]
    public async Task RunAsync_SameHashTwice_SecondRunAnsweredFromSharedCache()
    {
        await RunAsync(Alerts.Fim(s_clean, path: "/one"));
        var (code, datagrams) = await RunAsync(Alerts.Fim(s_clean, path: "/two"));

        Assert.Equal(0, code);
        Assert.Single(datagrams);
        Assert.Equal(1, _emulator.LookupCount);
    }

    [Fact]
    public async Task RunAsync_BadInput_UsesWazuhsExitCodes()
    {
        var alert = Path.Combine(_directory, "bad.alert");
        await File.WriteAllTextAsync(alert, "{not json");
        var noHash = Path.Combine(_directory, "nohash.alert");
        await File.WriteAllTextAsync(noHash, "{\"id\":\"1\",\"rule\":{\"id\":\"554\"}}");

        Assert.Equal(2, await WazuhDropIn.RunAsync(["a", "b"], Env, _time, TextWriter.Null, CancellationToken.None));
        Assert.Equal(6, await WazuhDropIn.RunAsync(["/nonexistent.alert", "k", ""], Env, _time, TextWriter.Null, CancellationToken.None));
        Assert.Equal(7, await WazuhDropIn.RunAsync([alert, "k", ""], Env, _time, TextWriter.Null, CancellationToken.None));
        Assert.Equal(1, await WazuhDropIn.RunAsync([noHash, "k", ""], Env, _time, TextWriter.Null, CancellationToken.None));
    }

    [Theory]
    [InlineData("44d88612FEA8A8F36DE82E1278ABB02F")]
    [InlineData("44d88612fea8a8f36de82e1278abb02")]
    [InlineData("44d88612fea8a8f36de82e1278abb02f 44d88612fea8a8f36de82e1278abb02f")]
    [InlineData("not-a-hash")]
    public async Task RunAsync_Md5NotAsWazuhsScriptAccepts_Exits1AndSendsNothing(string md5)
    {
        var alert = Alerts.Fim(s_malicious).Replace(s_malicious.Md5, md5, StringComparison.Ordinal);
        Assert.Contains(md5, alert, StringComparison.Ordinal);

        var (code, datagrams) = await RunAsync(alert);

        Assert.Equal(1, code);
        Assert.Empty(datagrams);
        Assert.Equal(0, _emulator.LookupCount);
    }

    [Fact]
    public async Task RunAsync_UpperCaseMd5_IsLookedUp()
    {
        var (code, datagrams) = await RunAsync(Alerts.Fim(s_clean).Replace(s_clean.Md5, s_clean.Md5.ToUpperInvariant(), StringComparison.Ordinal));

        Assert.Equal(0, code);
        Assert.Single(datagrams);
    }

    [Fact]
    public async Task RunAsync_NoSocket_Exits5()
    {
        var alert = Path.Combine(_directory, "x.alert");
        await File.WriteAllTextAsync(alert, Alerts.Fim(s_clean));
        string? NoSocket(string name) => name == WazuhDropIn.SocketVariable ? Path.Combine(_directory, "missing") : Env(name);

        Assert.Equal(5, await WazuhDropIn.RunAsync([alert, IntelHarness.Key, "", "", _optionsFile], NoSocket, _time, TextWriter.Null, CancellationToken.None));
    }

    private string? Env(string name) => name switch
    {
        WazuhDropIn.SocketVariable => SocketPath,
        WazuhDropIn.DatabaseVariable => Path.Combine(_directory, "intel.db"),
        _ => null,
    };

    private async Task<(int Code, List<string> Datagrams)> RunAsync(string alertJson, string key = IntelHarness.Key, string timeout = "10", string retries = "3")
    {
        var alert = Path.Combine(_directory, $"virustotal-{Guid.NewGuid():N}.alert");
        await File.WriteAllTextAsync(alert, alertJson + "\n");
        var error = new StringWriter();
        var code = await WazuhDropIn.RunAsync([alert, key, "", "", _optionsFile, timeout, retries], Env, _time, error, CancellationToken.None);
        Assert.DoesNotContain(key, error.ToString(), StringComparison.Ordinal);
        var datagrams = new List<string>();
        var buffer = new byte[65536];
        while (_queue.Available > 0)
        {
            var n = await _queue.ReceiveAsync(buffer, SocketFlags.None);
            datagrams.Add(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return (code, datagrams);
    }
}
