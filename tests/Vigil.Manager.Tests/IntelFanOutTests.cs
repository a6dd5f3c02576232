using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Vigil.Cli;
using Vigil.Core.Events;
using Vigil.Tests.Common;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Manager.Tests;

/// <summary>The intelligence services a host starts, against the VirusTotal emulator.</summary>
public sealed class IntelFanOutTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("vigil-intel-fanout");
    private VirusTotalEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await VirusTotalEmulator.StartAsync();

    public async Task DisposeAsync()
    {
        await _emulator.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_KeyRejected_LoggedUnderTheIntegrationsKeyNamingThePeer()
    {
        var pem = _emulator.WriteCertificatePem(_temp.Combine("vt.pem"));
        string Block(string key) => $$"""
              <integration>
                <name>virustotal</name>
                <api_key>{{key}}</api_key>
                <group>syscheck</group>
                <alert_format>json</alert_format>
                <options>{"base_url": "{{_emulator.BaseUrl}}", "trusted_certificate": "{{pem}}"}</options>
              </integration>
            """;
        _temp.WriteFile("home/config/ossec.conf", $"""
            <ossec_config>
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
              </ruleset>
            {Block("test-key")}
            {Block("revoked-key")}
            </ossec_config>
            """);
        var (config, rules, diagnostics) = ConfigLoading.Load(_temp.Combine("home", "config", "ossec.conf"), null, _temp.Combine("home"));
        Assert.False(ConfigLoading.HasErrors(diagnostics), string.Join("\n", diagnostics));
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));

        await using var intel = IntelFanOut.Start(config, rules, new NullSink(), i => _temp.Combine("data", $"intel-{i}.db"), TimeProvider.System, loggers);
        var alert = AlertSamples.Fim(AlertSamples.NewId(AlertSamples.Start), AlertSamples.Start, "/srv/www/upload.php");
        foreach (var service in intel.Services)
        {
            await service.OnAlertAsync(alert, CancellationToken.None);
        }

        var clock = Stopwatch.StartNew();
        while (!logs.Lines.Any(l => l.Level == LogLevel.Error))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "nothing was logged within 30 s: " + string.Join("\n", logs.Lines));
            await Task.Delay(20);
        }

        var error = Assert.Single(logs.Lines, l => l.Level == LogLevel.Error);
        Assert.Equal("Vigil.Intel.virustotal#2", error.Category);
        Assert.Contains(_emulator.BaseUrl.Host, error.Message, StringComparison.Ordinal);
        Assert.Contains("rejected the API key (401 WrongCredentialsError)", error.Message, StringComparison.Ordinal);
    }

    private sealed class NullSink : IEventSink
    {
        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>Keeps every log entry with its category.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
