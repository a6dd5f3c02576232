using Microsoft.Extensions.Logging;
using Vigil.Core.Baseline;
using Vigil.Core.Events;
using Vigil.Intel.Selection;

namespace Vigil.Intel.Engines;

/// <summary>
/// The retro-scan: when the engine's version changes (YARA rules reloaded, a new ClamAV database), every file the FIM
/// baseline already holds is scanned again, newest first, so malware that arrived before its signature is found. It
/// runs only while no realtime file waits, at most <see cref="RetroScanOptions.Rate"/> files a second, and its cursor
/// and the version it is for are stored after each file, so a restart continues where it stopped and a newer version
/// starts over. A detection is the same message, and so the same alert and removal, as a realtime one.
/// </summary>
internal sealed partial class EngineService
{
    private IBaselineCatalog? _baseline;
    private RetroScanState? _retro;
    private DateTimeOffset _nextRetro;

    /// <summary>The retro-scan's settings (set before <see cref="Start"/>).</summary>
    internal RetroScanOptions RetroScanOptions { get; init; } = new();

    /// <summary>The FIM baseline the retro-scan walks; until one is attached there is nothing to walk.</summary>
    public void AttachBaseline(IBaselineCatalog baseline) => _baseline = baseline;

    /// <summary>The retro-scan's progress (null before the first).</summary>
    public RetroScanState? RetroScan => _retro ??= _store.RetroScan();

    private int RetroBatch => Math.Clamp(RetroScanOptions.Rate, 1, 64);

    /// <summary>One throttled batch of the retro-scan; false when it has nothing to do now.</summary>
    internal async Task<bool> RetroStepAsync(CancellationToken cancellationToken)
    {
        if (!RetroScanOptions.IsEnabled || _baseline is not { IsReady: true } baseline || _engine.Version is not { } version)
        {
            return false;
        }

        var state = RetroScan;
        if (state is null || state.Version != version)
        {
            state = new RetroScanState(version, null, 0, baseline.Count(), 0, false);
            Save(state);
            Log.RetroScanStarted(_logger, _engine.Name, state.Total, version);
        }

        var now = _time.GetUtcNow();
        if (state.IsFinished || now < _nextRetro)
        {
            return false;
        }

        // The batch is judged at once (as many as the engine scans at once), then concluded in the walk's order, so
        // the cursor only moves past files that were answered.
        var files = baseline.NewestFirst(state.Cursor, RetroBatch);
        var alerts = files.Select(f => (FileAlert?)new FileAlert { AlertId = "", Agent = new AgentIdentity("000", "", null), Path = f.Path }).ToList();
        var judged = await JudgeAllAsync(alerts, isRetro: true, cancellationToken);
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                var file = files[i];
                var outcome = judged[i] is { } judgement
                    ? await ConcludeAsync(alerts[i]!, judgement, $"engine:{_engine.Name}:retro:{version}:{file.Path}", isRetro: true)
                    : null;
                if (outcome == EngineOutcome.Unavailable)
                {
                    return false; // the cursor stays before this file: it is scanned once the engine is back
                }

                state = state with
                {
                    Cursor = file,
                    Done = state.Done + 1,
                    Total = Math.Max(state.Total, state.Done + 1),
                    Found = state.Found + (outcome == EngineOutcome.Detected ? 1 : 0),
                };
                Save(state);
                if (_engine.Version != version)
                {
                    return true; // new rules meanwhile: the next step starts over for them
                }
            }
        }
        finally
        {
            Close(judged);
        }

        if (files.Count < RetroBatch)
        {
            state = state with { IsFinished = true, Total = state.Done };
            Save(state);
            Log.RetroScanFinished(_logger, _engine.Name, state.Done, state.Found, version);
        }

        _nextRetro = now + TimeSpan.FromSeconds((double)files.Count / RetroScanOptions.Rate);
        return false;
    }

    /// <summary>How long the worker may sleep before the next retro-scan batch is due (null: no batch is due).</summary>
    private TimeSpan? RetroDelay() =>
        RetroScanOptions.IsEnabled && _baseline is { IsReady: true } && _retro is not { IsFinished: true } ? _nextRetro - _time.GetUtcNow() : null;

    private void Save(RetroScanState state)
    {
        _store.SaveRetroScan(state);
        _retro = state;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.EngineRetroScanStarted, LogLevel.Information, "{Engine} retro-scan of {Count} baseline file(s) for version {Version}")]
        public static partial void RetroScanStarted(ILogger logger, string engine, int count, string version);

        [LoggerMessage(EventIds.EngineRetroScanFinished, LogLevel.Information, "{Engine} retro-scan done: {Count} file(s), {Found} detection(s), version {Version}")]
        public static partial void RetroScanFinished(ILogger logger, string engine, int count, int found, string version);
    }
}
