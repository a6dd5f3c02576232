using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Native;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Yara;

namespace Vigil.Intel.Engines;

/// <summary>
/// What `vigil config check` says of the engine blocks (custom-vigil-yara, custom-vigil-clamav): every key of their
/// <c>&lt;options&gt;</c> that is unknown or of the wrong type, rule files and directories that are missing or do not
/// compile, a clamd.conf that cannot be read or used, a socket or address clamd cannot be at. Each problem is one
/// diagnostic at the line of ossec.conf that holds the key (or at the rule file's or clamd.conf's own line).
/// </summary>
internal static class EngineConfigCheck
{
    private static readonly string[] s_retroScanKeys = ["retro_scan", "retro_scan_rate"];

    private static readonly string[] s_yaraKeys = ["rules", "max_file_size", "timeout_seconds", "max_concurrent_scans", "reload_seconds", .. s_retroScanKeys];

    private static readonly string[] s_clamAvKeys = ["clamd_conf", "socket", "tcp", "stream_max_length", "max_file_size", "timeout_seconds", .. s_retroScanKeys];

    /// <summary>sun_path holds 108 bytes, the last a NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>Every engine block of the configuration; with <paramref name="compileRules"/>, YARA rules are compiled too.</summary>
    public static IReadOnlyList<Diagnostic> Check(OssecConfig config, bool compileRules = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        var found = new List<Diagnostic>();
        foreach (var integration in config.Integrations.Where(EngineSettings.IsEngine))
        {
            found.AddRange(Check(integration, config, compileRules));
        }

        return found;
    }

    /// <summary>One engine block.</summary>
    public static IReadOnlyList<Diagnostic> Check(IntegrationOptions integration, OssecConfig config, bool compileRules = true)
    {
        ArgumentNullException.ThrowIfNull(integration);
        ArgumentNullException.ThrowIfNull(config);
        if (integration.Options is null && integration.OptionsSource.File.Length > 0)
        {
            return []; // <options> is not a JSON object: the configuration reader said so at its line
        }

        var block = new Block(integration);
        var isYara = integration.Name == EngineSettings.Yara;
        var allowed = isYara ? s_yaraKeys : s_clamAvKeys;
        foreach (var (key, _) in block.Keys.Where(k => !allowed.Contains(k.Key, StringComparer.Ordinal)))
        {
            block.Error(key, $"{Shown(key)} is not a setting of {integration.Name}; allowed: {string.Join(", ", allowed)}");
        }

        foreach (var key in block.Duplicates)
        {
            block.Warning(key, $"{Shown(key)} is given more than once; the last one is used");
        }

        var errors = new List<OptionError>();
        _ = EngineSettings.RetroScanFrom(integration, errors);
        if (isYara)
        {
            var options = EngineSettings.YaraFrom(integration, config.Home, errors);
            Report(block, errors);
            CheckYara(block, options, config, compileRules && errors.Count == 0);
        }
        else
        {
            var options = EngineSettings.ClamAvFrom(integration, config.Home, errors);
            Report(block, errors);
            if (errors.Count == 0)
            {
                CheckClamAv(block, options);
            }
        }

        return block.Found;
    }

    private static void Report(Block block, List<OptionError> errors)
    {
        foreach (var error in errors)
        {
            block.Error(error.Key, error.Message);
        }
    }

    private static void CheckYara(Block block, YaraOptions options, OssecConfig config, bool compile)
    {
        if (options.Rules.Count == 0)
        {
            return; // said already: rules is required
        }

        var missing = new List<YaraDiagnostic>();
        var files = YaraCompiler.Files(options.Rules, missing);
        foreach (var m in missing)
        {
            block.Error("rules", $"rules: {m.File}: no such rule file or directory");
        }

        if (missing.Count > 0)
        {
            return;
        }

        if (files.Count == 0)
        {
            block.Error("rules", $"rules: no rule files (*.yar, *.yara) in {string.Join(", ", options.Rules)}: the engine would scan nothing");
            return;
        }

        foreach (var source in options.Rules)
        {
            if (config.Syscheck.Directories.FirstOrDefault(d => IsUnder(source, d.Path)) is { } watched)
            {
                block.Warning("rules", $"rules: {source} is inside the monitored directory {watched.Path}: a rule's own strings match its file; keep rules outside watched trees");
            }
        }

        if (!compile)
        {
            return;
        }

        YaraCompileResult result;
        try
        {
            result = YaraCompiler.Compile(options.Rules);
        }
        catch (VigilException ex)
        {
            block.Warning("rules", $"rules: not compiled, libyara cannot be loaded here: {ex.Message}");
            return;
        }

        using (result.Rules)
        {
            foreach (var d in result.Diagnostics)
            {
                block.Found.Add(new Diagnostic(d.File, d.Line, d.IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning, $"YARA ({block.Name}): {d.Message}"));
            }
        }
    }

    private static void CheckClamAv(Block block, ClamAvOptions options)
    {
        if (options.Socket is not null && options.Tcp is not null)
        {
            block.Warning("tcp", "socket and tcp are both set: the socket is used, tcp is not");
        }

        ClamdConf? conf = null;
        if (options.ClamdConf is not null || (options.Socket is null && options.Tcp is null))
        {
            var path = options.ClamdConf ?? ClamAvOptions.DefaultConf;
            var key = options.ClamdConf is null ? null : "clamd_conf";
            try
            {
                conf = ClamdConf.Load(path);
            }
            catch (ClamdConfException ex) when (ex.Line > 0)
            {
                block.Found.Add(new Diagnostic(ex.File, ex.Line, DiagnosticSeverity.Error, $"clamd.conf ({block.Name}): {ex.Problem}"));
                return;
            }
            catch (ClamdConfException ex)
            {
                var hint = key is null ? "; name it with clamd_conf, or give clamd's socket or tcp" : "";
                block.Error(key, $"clamd_conf: {path}: {ex.Problem}{hint}");
                return;
            }

            if (options.Socket is null && options.Tcp is null && conf.LocalSocket is null && conf.TcpPort is null)
            {
                block.Error(key, $"clamd_conf: {path}: clamd listens nowhere (neither LocalSocket nor TCPSocket is set)");
                return;
            }
        }

        if (options.Socket is { } socket)
        {
            CheckSocket(block, "socket", socket);
        }
        else if (options.Tcp is { } tcp)
        {
            CheckTcp(block, tcp);
        }
        else if (conf!.LocalSocket is { } local)
        {
            CheckSocket(block, "clamd_conf", local, $" (LocalSocket of {conf.Path})");
        }

        if (options.StreamMaxLength is { } limit && conf is not null && limit > conf.StreamMaxLength)
        {
            block.Warning("stream_max_length", $"stream_max_length {limit} is over clamd's StreamMaxLength {conf.StreamMaxLength} ({conf.Path}): clamd refuses such streams");
        }
    }

    private static void CheckSocket(Block block, string key, string socket, string from = "")
    {
        if (!Path.IsPathRooted(socket))
        {
            block.Error(key, $"{key}: clamd's socket must be an absolute path, got {Shown(socket)}{from}");
            return;
        }

        if (Encoding.UTF8.GetByteCount(socket) > MaxSocketPathBytes)
        {
            block.Error(key, $"{key}: the socket path {socket} is longer than a unix socket address can hold ({MaxSocketPathBytes} bytes){from}");
            return;
        }

        if (FileStatus.TryGet(socket, followLinks: true, out var errno) is { } status)
        {
            if ((status.Mode & LibC.S_IFMT) != LibC.S_IFSOCK)
            {
                block.Error(key, $"{key}: {socket} is a {Stat.FileTypeName(status.Mode)}, not a socket{from}");
            }

            return;
        }

        var why = errno == LibC.ENOENT ? "nothing is there now" : $"it cannot be examined ({Marshal.GetPInvokeErrorMessage(errno)})";
        block.Warning(key, $"{key}: clamd's socket {socket}: {why}{from}; files wait until clamd listens there");
    }

    private static void CheckTcp(Block block, string tcp)
    {
        try
        {
            _ = ClamAvEngine.ParseTcp(tcp);
        }
        catch (VigilException ex)
        {
            block.Error("tcp", ex.Message);
        }
    }

    private static bool IsUnder(string path, string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        return full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string Shown(string value) => $"'{value}'";

    /// <summary>One engine block's options: each key's line in ossec.conf, and what was found.</summary>
    private sealed class Block
    {
        private readonly IntegrationOptions _integration;
        private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

        public Block(IntegrationOptions integration)
        {
            _integration = integration;
            var keys = new List<KeyValuePair<string, int>>();
            var duplicates = new List<string>();
            if (!string.IsNullOrWhiteSpace(integration.Options))
            {
                var bytes = Encoding.UTF8.GetBytes(integration.Options);
                var reader = new Utf8JsonReader(bytes);
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                    {
                        var name = reader.GetString()!;
                        var line = bytes.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n');
                        if (!_lines.TryAdd(name, line))
                        {
                            duplicates.Add(name);
                            _lines[name] = line;
                        }
                        else
                        {
                            keys.Add(new(name, line));
                        }
                    }
                }
            }

            Keys = keys;
            Duplicates = [.. duplicates.Distinct(StringComparer.Ordinal)];
        }

        public string Name => _integration.Name;

        public IReadOnlyList<KeyValuePair<string, int>> Keys { get; }

        public IReadOnlyList<string> Duplicates { get; }

        public List<Diagnostic> Found { get; } = [];

        public void Error(string? key, string message) => Add(key, DiagnosticSeverity.Error, message);

        public void Warning(string? key, string message) => Add(key, DiagnosticSeverity.Warning, message);

        private void Add(string? key, DiagnosticSeverity severity, string message)
        {
            var at = EngineSettings.LineOf(_integration, key, _lines); // where start-up points too
            Found.Add(new Diagnostic(at.File, at.Line, severity, $"<integration> {Name} <options>: {message}"));
        }
    }
}
