using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Native;

namespace Vigil.Intel.Yara;

/// <summary>A rule that matched: its name, namespace and tags.</summary>
internal sealed record YaraMatch(string Rule, string Namespace, IReadOnlyList<string> Tags);

/// <summary>One scan's outcome: matches, or why the file was not scanned (too large) or the scan failed.</summary>
internal sealed record YaraScanResult(IReadOnlyList<YaraMatch> Matches, string? Skipped = null, string? Error = null)
{
    public static YaraScanResult Failed(string error) => new([], Error: error);

    public bool IsMatch => Matches.Count > 0;
}

/// <summary>What a reload did: nothing (the files are unchanged), new rules in force, or errors (the old rules stay).</summary>
internal sealed record YaraReload(bool IsChanged, IReadOnlyList<YaraDiagnostic> Errors, string? Version);

/// <summary>
/// The YARA engine: rules compiled once and again whenever a rule file changes (a broken edit is reported with
/// file:line and the rules in force stay), shared by every scan; each scan reads the file through the descriptor the
/// caller opened without following symlinks (<c>yr_rules_scan_fd</c>), never by path, bounded in size and time.
/// </summary>
internal sealed class YaraEngine : Engines.IFileEngine, IDisposable
{
    private readonly YaraOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private YaraRules? _rules;
    private string? _signature;

    public YaraEngine(YaraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        MaxConcurrentScans = Math.Clamp(options.MaxConcurrentScans, 1, YaraNative.MaxThreads);
        _slots = new SemaphoreSlim(MaxConcurrentScans);
    }

    public YaraOptions Options => _options;

    public int MaxConcurrentScans { get; }

    public string Name => "yara";

    /// <summary>As an engine: the first matching rule names the detection; every match is in the tags' company.</summary>
    public async Task<Engines.EngineResult> ScanAsync(FileStream file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var version = Version;
        var result = await ScanAsync(file.SafeFileHandle, cancellationToken);
        return result switch
        {
            { Skipped: { } skipped } => new(Name, version, Engines.EngineOutcome.Skipped, Detail: skipped),
            { Error: { } error } => new(Name, version, Engines.EngineOutcome.Failed, Detail: error),
            { IsMatch: true } => new(Name, version, Engines.EngineOutcome.Detected, result.Matches[0].Rule, result.Matches[0].Tags,
                Detail: result.Matches.Count > 1 ? $"also matched: {string.Join(", ", result.Matches.Skip(1).Select(m => m.Rule))}" : null),
            _ => new(Name, version, Engines.EngineOutcome.Clean),
        };
    }

    /// <summary>The SHA-256 of the rules in force (null before rules first compiled).</summary>
    public string? Version { get; private set; }

    /// <summary>The rule files of the rules in force.</summary>
    public IReadOnlyList<string> Files { get; private set; } = [];

    /// <summary>The errors of the last compile that failed, until one succeeds.</summary>
    public IReadOnlyList<YaraDiagnostic> LastErrors { get; private set; } = [];

    /// <summary>Compiles the rules if any rule file changed since the last compile (or none was done).</summary>
    public YaraReload Reload()
    {
        var signature = Signature();
        lock (_gate)
        {
            if (signature == _signature)
            {
                return new YaraReload(false, [], Version);
            }

            _signature = signature;
        }

        var result = YaraCompiler.Compile(_options.Rules);
        lock (_gate)
        {
            if (result.Rules is null)
            {
                LastErrors = [.. result.Diagnostics.Where(d => d.IsError)];
                return new YaraReload(true, LastErrors, Version);
            }

            var old = _rules;
            _rules = result.Rules;
            Version = result.Version;
            Files = result.Files;
            LastErrors = [];

            // Scans still running on the old rules hold a reference; they are destroyed when the last one ends.
            old?.Dispose();
            return new YaraReload(true, [], Version);
        }
    }

    /// <summary>Scans the open file <paramref name="file"/> (its size from fstat); never throws for a bad file.</summary>
    public async Task<YaraScanResult> ScanAsync(SafeFileHandle file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (LibC.FStat(file.Fd(), out var stat) != 0)
        {
            return YaraScanResult.Failed(LibC.Describe(Marshal.GetLastPInvokeError()));
        }

        if (stat.Size > _options.MaxFileSize)
        {
            return new YaraScanResult([], Skipped: $"{stat.Size} bytes is over the YARA size limit of {_options.MaxFileSize} bytes");
        }

        YaraRules rules;
        lock (_gate)
        {
            if (_rules is null)
            {
                return YaraScanResult.Failed("no YARA rules are in force");
            }

            rules = _rules;
            var added = false;
            rules.DangerousAddRef(ref added);
        }

        try
        {
            await _slots.WaitAsync(cancellationToken);
            try
            {
                return await Task.Run(() => Scan(rules, file), cancellationToken);
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            rules.DangerousRelease();
        }
    }

    private unsafe YaraScanResult Scan(YaraRules rules, SafeFileHandle file)
    {
        var matches = new List<YaraMatch>();
        var gc = GCHandle.Alloc(matches);
        try
        {
            var timeout = (int)Math.Clamp(Math.Ceiling(_options.Timeout.TotalSeconds), 1, int.MaxValue);
            var result = YaraNative.RulesScanFd(rules, file.Fd(), YaraNative.ScanFlagsFastMode, &OnScanMessage, GCHandle.ToIntPtr(gc), timeout);
            return result == YaraNative.ErrorSuccess ? new YaraScanResult(matches) : YaraScanResult.Failed(YaraNative.Describe(result));
        }
        finally
        {
            gc.Free();
        }
    }

    // The rule files' names, sizes and modification times: a change to any of them means a compile.
    private string Signature()
    {
        var errors = new List<YaraDiagnostic>();
        var files = YaraCompiler.Files(_options.Rules, errors);
        var parts = files.Select(f =>
        {
            var info = new FileInfo(f);
            return info.Exists ? $"{f}\0{info.Length}\0{info.LastWriteTimeUtc.Ticks}" : f;
        });
        return string.Join("\n", parts.Concat(errors.Select(e => "!" + e.File)));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _rules?.Dispose();
            _rules = null;
        }

        _slots.Dispose();
    }

    [UnmanagedCallersOnly]
    private static int OnScanMessage(nint context, int message, nint data, nint userData)
    {
        if (message != YaraNative.CallbackMsgRuleMatching || GCHandle.FromIntPtr(userData).Target is not List<YaraMatch> matches)
        {
            return YaraNative.CallbackContinue;
        }

        var name = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(data, YaraNative.RuleIdentifierOffset)) ?? "";
        var tags = new List<string>();
        var tag = Marshal.ReadIntPtr(data, YaraNative.RuleTagsOffset);
        while (tag != 0 && Marshal.ReadByte(tag) != 0)
        {
            var text = Marshal.PtrToStringUTF8(tag) ?? "";
            tags.Add(text);
            tag += System.Text.Encoding.UTF8.GetByteCount(text) + 1;
        }

        var ns = Marshal.ReadIntPtr(data, YaraNative.RuleNamespaceOffset);
        var nsName = ns == 0 ? "default" : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(ns)) ?? "default";
        matches.Add(new YaraMatch(name, nsName, tags));
        return YaraNative.CallbackContinue;
    }
}
