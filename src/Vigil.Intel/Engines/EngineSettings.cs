using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Yara;

namespace Vigil.Intel.Engines;

/// <summary>
/// The detection engines' blocks in ossec.conf, in the style of Vigil's other intelligence (custom-vigil-lists): an
/// <c>&lt;integration&gt;</c> named <c>custom-vigil-yara</c> or <c>custom-vigil-clamav</c>, whose rule_id, group and
/// level choose the FIM alerts scanned, and whose <c>&lt;options&gt;</c> JSON object holds the engine's settings
/// (docs/engines.md). A Wazuh manager given the same file finds no script of that name and leaves the block alone.
/// </summary>
internal static class EngineSettings
{
    public const string Yara = "custom-vigil-yara";
    public const string ClamAv = "custom-vigil-clamav";

    public static bool IsEngine(IntegrationOptions integration) => integration?.Name is Yara or ClamAv;

    /// <summary>
    /// The first engine block whose options an engine cannot be made of (the message <see cref="YaraFrom"/>,
    /// <see cref="ClamAvFrom"/> or <see cref="RetroScanFrom"/> throws, at the first bad key's ossec.conf line), or
    /// null: a host checks this before it starts.
    /// </summary>
    public static string? Unreadable(OssecConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var integration in config.Integrations.Where(IsEngine))
        {
            try
            {
                _ = integration.Name == Yara ? (object)YaraFrom(integration, config.Home) : ClamAvFrom(integration, config.Home);
                _ = RetroScanFrom(integration); // read when the engine is made: a bad retro_scan must stop start-up here too
            }
            catch (VigilException ex)
            {
                return ex.Message;
            }
        }

        return null;
    }

    /// <summary>The YARA settings of a custom-vigil-yara block; relative paths resolve against <paramref name="home"/>.</summary>
    public static YaraOptions YaraFrom(IntegrationOptions integration, string home, List<OptionError>? collected = null)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var options = new YaraOptions();
        var errors = collected ?? [];
        foreach (var (name, value) in Properties(integration))
        {
            switch (name)
            {
                case "rules":
                    if (Paths(value) is { Count: > 0 } rules)
                    {
                        options = options with { Rules = [.. rules.Select(r => Resolve(r, home))] };
                    }
                    else
                    {
                        errors.Add(new("rules", "rules must be a path or an array of paths (rule files or directories)"));
                    }

                    break;
                case "max_file_size":
                    options = options with { MaxFileSize = Bytes(name, value, errors) ?? options.MaxFileSize };
                    break;
                case "timeout_seconds":
                    options = options with { Timeout = TimeSpan.FromSeconds(Positive(name, value, errors) ?? options.Timeout.TotalSeconds) };
                    break;
                case "max_concurrent_scans":
                    options = options with { MaxConcurrentScans = (int)Math.Min(YaraNative.MaxThreads, Positive(name, value, errors) ?? options.MaxConcurrentScans) };
                    break;
                case "reload_seconds":
                    options = options with { ReloadInterval = TimeSpan.FromSeconds(Positive(name, value, errors) ?? options.ReloadInterval.TotalSeconds) };
                    break;
                default:
                    break; // shared options objects stay usable, as for the other integrations
            }
        }

        if (options.Rules.Count == 0 && !errors.Any(e => e.Key == "rules"))
        {
            errors.Add(new(null, "rules is required: the rule files or directories to compile"));
        }

        if (collected is null)
        {
            Throw(integration, errors);
        }

        return options;
    }

    /// <summary>The ClamAV settings of a custom-vigil-clamav block.</summary>
    public static ClamAvOptions ClamAvFrom(IntegrationOptions integration, string home, List<OptionError>? collected = null)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var options = new ClamAvOptions();
        var errors = collected ?? [];
        foreach (var (name, value) in Properties(integration))
        {
            switch (name)
            {
                case "clamd_conf" or "socket" or "tcp":
                    if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
                    {
                        errors.Add(new(name, $"{name} must be a non-empty string"));
                        break;
                    }

                    options = name switch
                    {
                        "clamd_conf" => options with { ClamdConf = Resolve(text, home) },
                        "socket" => options with { Socket = Resolve(text, home) },
                        _ => options with { Tcp = text },
                    };
                    break;
                case "stream_max_length":
                    options = options with { StreamMaxLength = Bytes(name, value, errors) };
                    break;
                case "max_file_size":
                    options = options with { MaxFileSize = Bytes(name, value, errors) ?? options.MaxFileSize };
                    break;
                case "timeout_seconds":
                    options = options with { Timeout = TimeSpan.FromSeconds(Positive(name, value, errors) ?? options.Timeout.TotalSeconds) };
                    break;
                default:
                    break;
            }
        }

        if (collected is null)
        {
            Throw(integration, errors);
        }

        return options;
    }

    /// <summary>The retro-scan settings of either engine's block: <c>retro_scan</c> (true/false), <c>retro_scan_rate</c> (files per second).</summary>
    public static Engines.RetroScanOptions RetroScanFrom(IntegrationOptions integration, List<OptionError>? collected = null)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var options = new Engines.RetroScanOptions();
        var errors = collected ?? [];
        foreach (var (name, value) in Properties(integration))
        {
            switch (name)
            {
                case "retro_scan" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    options = options with { IsEnabled = value.GetBoolean() };
                    break;
                case "retro_scan":
                    errors.Add(new(name, "retro_scan must be true or false"));
                    break;
                case "retro_scan_rate":
                    options = options with { Rate = (int)(Positive(name, value, errors) ?? options.Rate) };
                    break;
                default:
                    break;
            }
        }

        if (collected is null)
        {
            Throw(integration, errors);
        }

        return options;
    }

    private static IEnumerable<(string Name, JsonElement Value)> Properties(IntegrationOptions integration)
    {
        if (string.IsNullOrWhiteSpace(integration.Options))
        {
            yield break;
        }

        using var document = JsonDocument.Parse(integration.Options); // the reader checked it is a JSON object
        foreach (var property in document.RootElement.EnumerateObject())
        {
            yield return (property.Name, property.Value.Clone());
        }
    }

    private static List<string>? Paths(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String when value.GetString() is { Length: > 0 } one => [one],
        JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0) =>
            [.. value.EnumerateArray().Select(e => e.GetString()!)],
        _ => null,
    };

    private static long? Bytes(string name, JsonElement value, List<OptionError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n > 0)
        {
            return n;
        }

        if (value.ValueKind == JsonValueKind.String && ClamdConf.ParseSize(value.GetString()!) is { } size and > 0)
        {
            return size;
        }

        errors.Add(new(name, $"{name} must be a size in bytes, or a string such as \"100M\""));
        return null;
    }

    private static double? Positive(string name, JsonElement value, List<OptionError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0)
        {
            return n;
        }

        errors.Add(new(name, $"{name} must be a positive integer"));
        return null;
    }

    private static string Resolve(string path, string home) =>
        Path.IsPathRooted(path) || home.Length == 0 ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(home, path));

    private static void Throw(IntegrationOptions integration, List<OptionError> errors)
    {
        if (errors.Count > 0)
        {
            // At the first bad key's line, where `vigil config check` points too.
            var at = LineOf(integration, errors[0].Key);
            var where = at.File.Length > 0 ? $"{at}: " : "";
            throw new VigilException($"{where}<integration> {integration.Name} <options>: {string.Join("; ", errors.Select(e => e.Message))}");
        }
    }

    /// <summary>
    /// Where in ossec.conf a key of an engine block's options is (the last time it is given), or the options'
    /// first line for null or a key not there; the block's line when the options have no place of their own.
    /// </summary>
    internal static SourceLocation LineOf(IntegrationOptions integration, string? key, IReadOnlyDictionary<string, int>? offsets = null)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var options = integration.OptionsSource;
        if (options.File.Length == 0)
        {
            return integration.Source;
        }

        offsets ??= KeyOffsets(integration.Options);
        return options with { Line = options.Line + (key is not null && offsets.TryGetValue(key, out var offset) ? offset : 0) };
    }

    /// <summary>Each top-level key of the options' JSON and its line within them (from 0; the last time it is given).</summary>
    internal static Dictionary<string, int> KeyOffsets(string? json)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return lines;
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var reader = new System.Text.Json.Utf8JsonReader(bytes);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    lines[reader.GetString()!] = bytes.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n');
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: the configuration reader said so at its line; the keys read so far keep theirs.
        }

        return lines;
    }
}

/// <summary>A problem with one key of an engine block's options (null: the object as a whole), for messages at its line.</summary>
internal sealed record OptionError(string? Key, string Message);
