using System.Collections.Concurrent;
using System.Diagnostics;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Fim;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>Real file changes, real inotify, through the FIM events into the rule engine: each change gives its rule.</summary>
public sealed class FimToRulesTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("vigil-fim-rules");
    private readonly ConcurrentQueue<EventMessage> _events = new();
    private readonly List<(string Rule, string? Path, string? Event)> _alerts = [];
    private AnalysisPipeline _pipeline = null!;
    private FimService _fim = null!;

    private string Watched => _temp.Combine("watched");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Watched);
        Directory.CreateDirectory(_temp.Combine("outside"));
        var config = new OssecConfig { Home = RepositoryPaths.Root };
        var rules = RuleSet.Load(config, RuleSet.RuleFilesOf(config), Analysis.Decoding.DecoderSet.BuiltIn, new DiagnosticBag());
        _pipeline = AnalysisFactory.Create(config, rules, AlertFileWriter.Detached(), TimeProvider.System);
        var syscheck = new SyscheckOptions
        {
            Disabled = false,
            MaxEps = 0,
            FileLimit = 0,
            Directories = [new DirectoryOptions { Path = Watched, Realtime = true }],
        };
        _fim = new FimService(syscheck, _temp.Combine("fim"), new QueueSink(_events), TimeProvider.System);
        await _fim.StartAsync(CancellationToken.None);
        await _fim.InitialScan;
    }

    public async Task DisposeAsync()
    {
        await _fim.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Changes_EachGiveTheirEventAndRule()
    {
        var file = Path.Combine(Watched, "report.txt");
        await File.WriteAllTextAsync(file, "first");
        await ExpectAsync("554", file, "added");

        await File.WriteAllTextAsync(file, "second version");
        await ExpectAsync("550", file, "modified");

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await ExpectAsync("550", file, "modified");

        Run("chown", "65534:65534", file);
        await ExpectAsync("550", file, "modified");

        var outside = _temp.Combine("outside", "moved.txt");
        File.Move(file, outside);
        await ExpectAsync("553", file, "deleted");

        var movedIn = Path.Combine(Watched, "moved-in.txt");
        File.Move(outside, movedIn);
        await ExpectAsync("554", movedIn, "added");

        var link = Path.Combine(Watched, "link");
        File.CreateSymbolicLink(link, "/etc/hostname");
        await ExpectAsync("554", link, "added");

        File.Delete(movedIn);
        await ExpectAsync("553", movedIn, "deleted");

        var nested = Path.Combine(Watched, "a", "b");
        Directory.CreateDirectory(nested);
        var deep = Path.Combine(nested, "dropped.bin");
        await File.WriteAllBytesAsync(deep, [1, 2, 3]);
        await ExpectAsync("554", deep, "added");
    }

    private async Task ExpectAsync(string rule, string path, string eventType)
    {
        // Only an alert produced after this call counts: each change must give its own.
        var from = _alerts.Count;
        var clock = Stopwatch.StartNew();
        while (!_alerts.Skip(from).Contains((rule, path, eventType)))
        {
            while (_events.TryDequeue(out var message))
            {
                var result = _pipeline.Process(message);
                if (result.Alert is { } alert)
                {
                    _alerts.Add((alert.Rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), alert.Event.Syscheck?.Path, alert.Event.Syscheck?.EventType));
                }
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20),
                $"no rule {rule} ({eventType}) for {path}; alerts so far: {string.Join("; ", _alerts)}");
            await Task.Delay(20);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(program, arguments);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    private sealed class QueueSink(ConcurrentQueue<EventMessage> queue) : IEventSink
    {
        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            queue.Enqueue(message);
            return ValueTask.CompletedTask;
        }
    }
}
