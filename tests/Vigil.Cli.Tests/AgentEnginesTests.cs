using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Agent;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel.Selection;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>What the agent's engines read of its own FIM events: the file, its event and its hashes, as from an alert.</summary>
public sealed class AgentEnginesTests
{
    private const string Sha256 = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

    private static string Event(string type = "added", string path = "/srv/www/shell.php", string attributesType = "file") =>
        "{\"type\":\"event\",\"data\":{\"path\":\"" + path + "\",\"version\":2.0,\"mode\":\"realtime\",\"type\":\"" + type
        + "\",\"timestamp\":1765000000,\"attributes\":{\"type\":\"" + attributesType + "\",\"size\":42,\"perm\":\"rw-r--r--\","
        + "\"hash_md5\":\"0123456789abcdef0123456789abcdef\",\"hash_sha1\":\"0123456789abcdef0123456789abcdef01234567\","
        + "\"hash_sha256\":\"" + Sha256 + "\"}}}";

    [Theory]
    [InlineData("added")]
    [InlineData("modified")]
    public void AlertFrom_AddedOrModifiedFile_ReadsAsTheFimAlertEnginesTake(string type)
    {
        var alert = AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", Event(type)));

        Assert.NotNull(alert);
        using var document = JsonDocument.Parse(alert);
        var file = FileAlert.TryParse(document.RootElement);
        Assert.NotNull(file);
        Assert.Equal(("/srv/www/shell.php", Sha256, 42L, true), (file.Path, file.Sha256, file.Size, file.IsRealtime));
        Assert.Equal("0123456789abcdef0123456789abcdef", file.Md5);
        Assert.True(file.Agent.IsManager); // this host; the manager puts the agent's identity on the engine's event
        Assert.True(new AlertSelector(new IntegrationOptions { Name = "custom-vigil-yara" }).IsMatch(document.RootElement));
    }

    [Fact]
    public void AlertFrom_AnythingButAFileAddedOrModified_Null()
    {
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", Event("deleted"))));
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", Event(attributesType: "registry_key"))));
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", Event(path: ""))));
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.LocalFileQueue, "syscheck", Event())));
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", """{"type":"scan_progress","data":{"files":3}}""")));
        Assert.Null(AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", "ossec: File integrity monitoring real-time")));
    }

    [Fact]
    public async Task Tap_FileEvent_QueuedForTheEngineAndPassedOn_EvenWhenAnEngineCannotTakeIt()
    {
        using var temp = new TempDirectory("vigil-agent-engines");
        temp.WriteFile("rules/r.yar", "rule Vigil_Agent_Tap { strings: $a = \"vigil-agent-tap-\" \"marker\" condition: $a }\n".Replace("\" \"", "", StringComparison.Ordinal));
        var file = temp.WriteFile("files/f.txt", "some text\n");
        var config = new OssecConfig
        {
            Home = temp.Path,
            Integrations =
            [
                new IntegrationOptions { Name = "custom-vigil-yara", Options = $$"""{"rules": ["{{temp.Combine("rules")}}"]}""" },
                new IntegrationOptions { Name = "custom-vigil-yara", Options = $$"""{"rules": ["{{temp.Combine("rules")}}"]}""" },
            ],
        };
        var sent = new ListSink();
        await using var engines = AgentEngines.Start(config, sent, key => temp.Combine("intel", key.Replace('#', '-') + ".db"), TimeProvider.System, NullLogger.Instance);
        Assert.Equal(["custom-vigil-yara", "custom-vigil-yara#2"], engines.Engines.Select(e => e.Key));
        var fim = new ListSink();
        var tap = engines.Tap(fim);

        await engines.Engines[1].Engine.DisposeAsync(); // its store is closed: it cannot take a file
        var added = new EventMessage(EventMessage.SyscheckQueue, "syscheck", Event(path: file));
        await tap.PublishBatchAsync([added, new EventMessage(EventMessage.LocalFileQueue, "syscheck", "ossec: a log line")], null, CancellationToken.None);

        Assert.Equal(2, fim.Messages.Count); // both went on to the manager's queue, in order
        Assert.Equal(added.Message, fim.Messages[0].Message);
        for (var i = 0; i < 200 && engines.Engines[0].Engine.Status() is not { Pending: 0, Scans: 1 }; i++)
        {
            await Task.Delay(50); // bounded: the working engine scans the file it was given
        }

        Assert.Equal((0, 1L), (engines.Engines[0].Engine.Status().Pending, engines.Engines[0].Engine.Status().Scans));
    }

    [Fact]
    public void AlertFrom_Fuzzed_NeverThrowsAndEveryAlertReadsBack()
    {
        const int Seed = 1616;
        var random = new Random(Seed);
        var corpus = new[] { Event(), Event("modified"), Event("deleted"), """{"type":"scan_progress","data":{"files":3}}""" };
        var clock = Stopwatch.StartNew();
        var cases = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2) && cases < 200_000)
        {
            var text = Mutate(random, corpus[random.Next(corpus.Length)]);
            var alert = AgentEngines.AlertFrom(new EventMessage(EventMessage.SyscheckQueue, "syscheck", text));
            if (alert is not null)
            {
                using var document = JsonDocument.Parse(alert); // what it writes is always JSON
                Assert.True(document.RootElement.GetProperty("syscheck").GetProperty("path").GetString() is { Length: > 0 }, $"seed {Seed}: '{text}'");
            }

            cases++;
        }

        Assert.True(cases > 100, $"only {cases} cases in the time given");
    }

    private const string Inserted = "{}[]\":,\\ 0ae\u00e9\uFFFD";

    private static string Mutate(Random random, string text)
    {
        var builder = new StringBuilder(text);
        for (var i = random.Next(1, 4); i > 0 && builder.Length > 0; i--)
        {
            var at = random.Next(builder.Length);
            switch (random.Next(4))
            {
                case 0:
                    builder.Remove(at, Math.Min(random.Next(1, 8), builder.Length - at));
                    break;
                case 1:
                    builder.Insert(at, Inserted[random.Next(Inserted.Length)]);
                    break;
                case 2:
                    builder[at] = (char)random.Next(32, 127);
                    break;
                default:
                    builder.Length = at;
                    break;
            }
        }

        return builder.ToString();
    }

    private sealed class ListSink : IEventSink
    {
        private readonly List<EventMessage> _messages = [];

        public IReadOnlyList<EventMessage> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }

            return ValueTask.CompletedTask;
        }
    }
}
