using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Cli;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Hosting;
using Vigil.Tests.Common;
using Vigil.Transport;
using Vigil.Transport.Agent;
using Vigil.Transport.Protocol;
using Vigil.Web;
using Vigil.Web.Index;

namespace Vigil.Manager.Tests;

/// <summary>
/// Hostile events through a real manager (gRPC over mutual TLS on free loopback ports) from a real enrolled agent
/// identity, and through logtest and POST /api/logtest: nothing stops the pipeline, every valid event gives its alert.
/// </summary>
public sealed class HostileEventsTests : IAsyncLifetime
{
    private const string Password = "hostile-events-password";
    private const int Seed = 20261203;
    private readonly TempDirectory _temp = new("vigil-hostile");
    private ManagerHost? _manager;
    private IAsyncDisposable? _running;
    private AllInOnePaths? _paths;
    private int _agentPort;
    private int _enrollmentPort;

    public async Task InitializeAsync()
    {
        _temp.WriteFile("home/config/ossec.conf", $"""
            <ossec_config>
              <syscheck><disabled>yes</disabled></syscheck>
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
                <rule_include>{RepositoryPaths.Get("config", "rules", "local_rules.xml")}</rule_include>
              </ruleset>
            </ossec_config>
            """);
        var (config, rules, diagnostics) = ConfigLoading.Load(_temp.Combine("home", "config", "ossec.conf"), null, _temp.Combine("home"));
        Assert.False(ConfigLoading.HasErrors(diagnostics), string.Join("\n", diagnostics));
        _paths = new AllInOnePaths(_temp.Combine("home"), _temp.Combine("data"));
        _agentPort = FreePort();
        _enrollmentPort = FreePort();
        var options = new ManagerTransportOptions { AgentPort = _agentPort, EnrollmentPort = _enrollmentPort, DataDirectory = _paths.Data, Password = Password };
        _manager = new ManagerHost(config, rules, _paths, options, NullLoggerFactory.Instance, TextWriter.Null, TimeProvider.System);
        _running = await VigilHost.StartAsync(_manager.Services(), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_running is not null)
        {
            await _running.DisposeAsync();
        }

        _temp.Dispose();
    }

    private async Task<AgentCredentials> EnrollAsync(string name)
    {
        var data = _temp.Combine("agent-" + name);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_paths!.Data, "ca", "ca.crt")));
        await AgentCredentials.EnrollAsync($"127.0.0.1:{_enrollmentPort}", $"127.0.0.1:{_agentPort}", name, Password, data, ca, CancellationToken.None);
        return AgentCredentials.TryLoad(data)!;
    }

    private List<JsonElement> Alerts()
    {
        var path = Path.Combine(_paths!.Alerts, "alerts.json");
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(stream).ReadToEnd().Split('\n');
        return [.. lines[..^1].Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    private static string RuleId(JsonElement alert) => alert.GetProperty("rule").GetProperty("id").GetString()!;

    private static string? FimPath(JsonElement alert) =>
        alert.TryGetProperty("syscheck", out var s) && s.TryGetProperty("path", out var p) ? p.GetString() : null;

    private async Task WaitForAsync(Func<List<JsonElement>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Alerts()))
        {
            Assert.True(clock.Elapsed < timeout, $"alerts not as expected after {timeout}: {string.Join(",", Alerts().Select(RuleId).CountBy(x => x))}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Manager_LoneSurrogateInASyscheckEvent_IsAnalysedAndTheEventsAfterItToo()
    {
        // Defect: the analysis loop ended on this event (InvalidOperationException), silently and for good.
        var credentials = await EnrollAsync("web-01");
        using var queue = new DurableEventQueue(_temp.Combine("agent-web-01", "queue.db"));
        queue.Enqueue(new EventMessage('8', "syscheck", EventMutator.Fim("/x/p\\udcff.txt")));
        queue.Enqueue(new EventMessage('8', "syscheck", EventMutator.Fim("/root/after.bin")));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System);
        var running = connection.RunAsync(stop.Token);

        await WaitForAsync(alerts => alerts.Any(a => FimPath(a) == "/root/after.bin"), TimeSpan.FromSeconds(30));
        Assert.Contains(Alerts(), a => FimPath(a) == "/x/p\uFFFD.txt" && RuleId(a) == "554");
        await WaitUntilAsync(() => queue.Count == 0, TimeSpan.FromSeconds(10)); // both acknowledged
        Assert.Empty(_manager!.Stages.Unhealthy());
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Manager_MutatedRealEventsInterleavedWithValidOnes_EveryValidOneAlertsAndTheManagerGoesOn()
    {
        var credentials = await EnrollAsync("fuzz-01");
        var mutator = new EventMutator(Seed);
        using var queue = new DurableEventQueue(_temp.Combine("agent-fuzz-01", "queue.db"));
        var mutated = new List<EventMessage>();
        var invalid = new Dictionary<ulong, string>(); // the agent's sequence number of each invalid event, and how it was made
        ulong sequence = 0; // the queue numbers its events from 1
        const int Valid = 150;
        for (var i = 0; i < Valid; i++)
        {
            queue.Enqueue(new EventMessage('8', "syscheck", EventMutator.Fim($"/root/valid-{i}.bin")));
            sequence++;
            foreach (var (q, location, message) in EventMutator.Samples($"/root/mutated-{i}.bin"))
            {
                var (text, kind) = mutator.Mutate(message);
                var bad = new EventMessage(q, location, text);
                mutated.Add(bad);
                queue.Enqueue(bad);
                sequence++;
                if (IsInvalid(bad))
                {
                    invalid[sequence] = kind;
                }
            }
        }

        Assert.InRange(invalid.Count, 50, mutated.Count - 50); // the seed gives both kinds, plenty of each

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System);
        var running = connection.RunAsync(stop.Token);
        bool AllValid(List<JsonElement> alerts) =>
            alerts.Select(FimPath).Where(p => p is not null && p.StartsWith("/root/valid-", StringComparison.Ordinal)).Distinct().Count() == Valid;
        await WaitForAsync(AllValid, TimeSpan.FromSeconds(90));
        await WaitUntilAsync(() => queue.Count == 0, TimeSpan.FromSeconds(30)); // every event acknowledged, the bad ones too
        await stop.CancelAsync();
        await running;

        // Invalid UTF-8 as bytes on the wire (the agent's own client only sends valid text): protobuf's strings must be
        // UTF-8, so the manager refuses that message and its stream, acknowledging none of it; the manager goes on, and the
        // agent's next session is served as before.
        var refused = await SendRawAsync(credentials, [.. mutated.Take(60).Select(m => (m, mutator.InvalidUtf8(m.Message)))], EventMutator.Fim("/root/raw-valid.bin"));
        Assert.True(refused, "the stream with invalid UTF-8 is refused, none of it acknowledged");
        queue.Enqueue(new EventMessage('8', "syscheck", EventMutator.Fim("/root/last.bin")));
        using var stopAfter = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var again = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System).RunAsync(stopAfter.Token);
        await WaitForAsync(alerts => alerts.Any(a => FimPath(a) == "/root/last.bin"), TimeSpan.FromSeconds(30));
        await stopAfter.CancelAsync();
        await again;

        // The manager goes on; every invalid event, and nothing else, is a dead letter (by its sequence number), each
        // with its 200500 alert. A valid but odd one that made a stage throw would be a dead letter of another stage.
        Assert.Empty(_manager!.Stages.Unhealthy());
        var letters = _manager.DeadLetters!.List(DeadLetterStore.MaxRecords);
        Assert.Equal(letters.Count, Alerts().Count(a => RuleId(a) == "200500"));
        Assert.All(letters, l => Assert.Equal("fuzz-01", l.AgentName));
        Assert.All(letters, l => Assert.True(l.Stage == "decoding", $"event {l.Sequence} failed in {l.Stage}: {l.Reason}\n{l.Event}"));
        var kept = letters.Select(l => l.Sequence).ToHashSet();
        var missing = invalid.Keys.Where(k => !kept.Contains(k)).ToList();
        var extra = kept.Where(k => !invalid.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"invalid but no dead letter: {string.Join(", ", missing.Select(k => $"{k} ({invalid[k]}): {mutated[MutatedIndex(k)]}"))}\n"
            + $"dead letter but valid: {string.Join(", ", extra.Select(k => $"{k}: {letters.First(l => l.Sequence == k).Reason}"))}");
        Assert.Equal(invalid.Count, letters.Count);
        Assert.DoesNotContain(Alerts(), a => FimPath(a) is { } p && p.StartsWith("/root/valid-", StringComparison.Ordinal) && RuleId(a) != "100201");
    }

    [Fact]
    public async Task LogtestAndApiLogtest_MutatedRealEvents_NoCrashNo500OneAnswerEach()
    {
        var mutator = new EventMutator(Seed + 1);
        var lines = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            foreach (var (q, location, message) in EventMutator.Samples($"/root/logtest-{i}.bin"))
            {
                lines.Add($"{q}:{location}:{message}");
                lines.Add($"{q}:{location}:{mutator.Mutate(message).Message}".ReplaceLineEndings(" "));
            }
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var invalid = lines.Count(l => IsInvalid(EventMessage.TryParse(l)!));
        Assert.True(invalid > 20, $"{invalid} invalid lines");
        var code = LogtestCommand.Run(json: true, _temp.Combine("home", "config", "ossec.conf"), null, new StringReader(string.Join("\n", lines)), output, error);
        Assert.Equal(0, code);
        var answers = output.ToString().Split('\n')[..^1];
        Assert.Equal(lines.Count, answers.Length);
        for (var i = 0; i < lines.Count; i += 2)
        {
            Assert.NotEqual("null", answers[i]); // each valid event gives its alert
        }

        Assert.DoesNotContain("could not be analysed", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(invalid, error.ToString().Split('\n').Count(l => l.Contains("the event is invalid", StringComparison.Ordinal)));

        // The same lines through the API: never a 500.
        var (config, rules, _) = ConfigLoading.Load(_temp.Combine("home", "config", "ossec.conf"), null, _temp.Combine("home"));
        using var index = new AlertIndex(AlertIndex.PathUnder(_temp.Combine("web")), new AlertIndexOptions(), TimeProvider.System);
        var operations = new HostOperations(config, rules, HostOperations.LocalQuarantine(_temp.Combine("web"), _paths!.ActiveResponseLog, TimeProvider.System), IntelFanOut.None, TimeProvider.System);
        await using var server = await VigilWebServer.StartAsync(
            new WebOptions { DataDirectory = _temp.Combine("web"), Port = 0, InitialAdminPassword = "admin password for the test" },
            index, new AlertFeed(), operations, NullLoggerFactory.Instance, TimeProvider.System, TextWriter.Null, CancellationToken.None);
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = server.BaseAddress };
        using var login = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = "admin password for the test" });
        var csrf = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrfToken").GetString()!;
        for (var i = 0; i < lines.Count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/logtest") { Content = JsonContent.Create(new { @event = lines[i] }) };
            request.Headers.Add("X-CSRF-Token", csrf);
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"line {i}: {response.StatusCode}: {lines[i][..Math.Min(200, lines[i].Length)]}");
            if (i % 2 == 0)
            {
                Assert.Equal(JsonValueKind.Object, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("alert").ValueKind);
            }
        }

        // A lone surrogate escaped in the request body itself.
        using var escaped = new HttpRequestMessage(HttpMethod.Post, "/api/logtest") { Content = new StringContent("{\"event\":\"1:x:\\udcff\\u0000abc\"}", Encoding.UTF8, "application/json") };
        escaped.Headers.Add("X-CSRF-Token", csrf);
        using var escapedResponse = await client.SendAsync(escaped);
        Assert.True(escapedResponse.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{escapedResponse.StatusCode}");
    }

    // One session that speaks the protocol with raw bytes: each event's message is the given bytes (invalid UTF-8).
    // True when the manager refused the message: the stream ended with nothing of it acknowledged.
    private static async Task<bool> SendRawAsync(AgentCredentials credentials, IReadOnlyList<(EventMessage Event, byte[] Message)> events, string lastValid)
    {
        using var handler = credentials.CreateHandler();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://{credentials.Manager}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "vigil.transport.v1.AgentChannel", "Connect", bytes, bytes);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(cancellationToken: stop.Token));
        await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello() }.ToByteArray());
        Assert.True(await call.ResponseStream.MoveNext(stop.Token));
        var sequence = ManagerMessage.Parser.ParseFrom(call.ResponseStream.Current).Acknowledged;
        var first = sequence;
        var batch = new EventBatch();
        var patches = new List<byte[]>();
        foreach (var (e, message) in events)
        {
            // A placeholder of the same length is serialized, then its bytes are replaced: the lengths stay right.
            batch.Events.Add(new AgentEvent { Sequence = ++sequence, Queue = e.Queue.ToString(), Location = e.Location, Message = new string('\u0001', message.Length) });
            patches.Add(message);
        }

        batch.Events.Add(new AgentEvent { Sequence = ++sequence, Queue = "8", Location = "syscheck", Message = lastValid });
        var wire = new AgentMessage { Events = batch }.ToByteArray();
        var at = 0;
        foreach (var patch in patches)
        {
            at = wire.AsSpan(at).IndexOf(new string('\u0001', patch.Length).Select(c => (byte)c).ToArray()) + at;
            patch.CopyTo(wire, at);
            at += patch.Length;
        }

        await call.RequestStream.WriteAsync(wire);
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token))
            {
                var answer = ManagerMessage.Parser.ParseFrom(call.ResponseStream.Current);
                if (answer.BodyCase == ManagerMessage.BodyOneofCase.Acknowledged && answer.Acknowledged > first)
                {
                    return false; // some of it was taken
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.DeadlineExceeded && !stop.IsCancellationRequested)
        {
        }

        return true;
    }

    // The index in the list of mutated events of the event with this sequence number (one valid event, then three mutated).
    private static int MutatedIndex(ulong sequence) => (int)(sequence - 1) / 4 * 3 + ((int)(sequence - 1) % 4) - 1;

    /// <summary>
    /// What an invalid event is (docs/text.md), written here apart from the decoders: on queue 8, anything but one JSON
    /// object with a string "type", and for "type":"event" a "data" object with a string "path" and a "type" of added,
    /// modified or deleted; from an integration (virustotal, vigil-intel), anything but one JSON object. Text is taken
    /// first as the pipeline takes it: a lone surrogate is U+FFFD. Anything else (an AR log line, however odd) is valid.
    /// </summary>
    private static bool IsInvalid(EventMessage message)
    {
        var text = Scrub(message.Message);
        var location = message.Location; // the agent's own events: no agent part yet
        if (message.Queue == '8')
        {
            if (Parse(text) is not { } root || root.ValueKind != JsonValueKind.Object || Last(root, "type") is not { ValueKind: JsonValueKind.String } type)
            {
                return true;
            }

            if (!Is(type, "event"))
            {
                return false;
            }

            return Last(root, "data") is not { ValueKind: JsonValueKind.Object } data
                || Last(data, "path") is not { ValueKind: JsonValueKind.String }
                || Last(data, "type") is not { ValueKind: JsonValueKind.String } eventType
                || !(Is(eventType, "added") || Is(eventType, "modified") || Is(eventType, "deleted"));
        }

        if (message.Queue == '1' && location is "virustotal" or "vigil-intel")
        {
            var prematch = text.Length > 1 && text[0] == '{' && text.AsSpan(1).TrimStart(' ') is { Length: > 0 } rest && rest[0] == '"';
            return !prematch || Parse(text) is not { ValueKind: JsonValueKind.Object };
        }

        return false;

        static JsonElement? Parse(string json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        }

        // Text with a lone surrogate escape (U+FFFD once decoded) equals no name or value looked for.
        static bool Is(object element, string text)
        {
            try
            {
                return element is JsonProperty p ? p.NameEquals(text) : ((JsonElement)element).ValueEquals(text);
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        // A key given twice counts by its last value.
        static JsonElement? Last(JsonElement element, string name)
        {
            JsonElement? last = null;
            foreach (var property in element.EnumerateObject())
            {
                if (Is(property, name))
                {
                    last = property.Value;
                }
            }

            return last;
        }
    }

    private static string Scrub(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < timeout, "condition not met in time");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
