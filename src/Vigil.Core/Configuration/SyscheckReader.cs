using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>
/// Reads every <c>&lt;syscheck&gt;</c> block of a file into one <see cref="SyscheckOptions"/>, merged as Wazuh
/// merges them: a later value overrides an earlier one, directories and filters accumulate, and a directory
/// configured again replaces its earlier entry in place (spec §2.1–2.2).
/// </summary>
internal sealed partial class SyscheckReader(ConfigContext context)
{
    private const int MaxPathsPerElement = 64;
    private const int MaxRecursionLevel = 320;
    private const int WeeklyFrequencySeconds = 604800;
    private const long OneKilobyte = 1024;

    private static readonly string[] Options =
    [
        "disabled", "frequency", "scan_time", "scan_day", "scan_on_start", "directories", "ignore", "nodiff",
        "skip_nfs", "skip_dev", "skip_sys", "skip_proc", "file_limit", "database", "max_eps", "max_files_per_second",
        "max_realtime_watches", "process_priority", "synchronization", "diff", "whodata", "prefilter_cmd", "allow_remote_prefilter_cmd",
    ];

    private static readonly string[] DirectoryAttributes =
    [
        "check_all", "check_sum", "check_md5sum", "check_sha1sum", "check_sha256sum", "check_size", "check_owner",
        "check_group", "check_perm", "check_mtime", "check_inode", "check_attrs", "realtime", "whodata",
        "report_changes", "restrict", "recursion_level", "tags", "follow_symbolic_link", "diff_size_limit",
        "prevention",
    ];

    private static readonly HashSet<string> Deprecated = new(StringComparer.Ordinal)
    {
        "auto_ignore", "alert_new_files", "remove_old_diff", "restart_audit",
    };

    private static readonly HashSet<string> WindowsOnly = new(StringComparer.Ordinal)
    {
        "windows_registry", "registry_ignore", "registry_limit", "windows_audit_interval", "max_fd_win_rt",
        "registry_nodiff",
    };

    private readonly List<DirectoryOptions> _directories = [];
    private readonly List<PathFilter> _ignore = [];
    private readonly List<PathFilter> _noDiff = [];
    private SyscheckOptions _options = new();
    private XElement? _firstBlock;
    private bool? _disabled;
    private bool _fileLimitEnabled = true;
    private int _fileLimitEntries = new SyscheckOptions().FileLimit;
    private bool _diskQuotaEnabled = true;
    private long _diskQuotaBytes = 1L << 30;
    private bool _fileSizeEnabled = true;
    private long _fileSizeBytes = 50L << 20;

    public void Read(XElement block)
    {
        _firstBlock ??= block;
        foreach (var element in block.Elements())
        {
            ReadOption(element);
        }
    }

    public SyscheckOptions Build()
    {
        var options = _options with
        {
            // SK_CONF_UNPARSED → disabled; a block without <disabled> (SK_CONF_UNDEFINED) → enabled.
            Disabled = _firstBlock is null || (_disabled ?? false),
            Directories = _directories.ToArray(),
            Ignore = _ignore.ToArray(),
            NoDiff = _noDiff.ToArray(),
            FileLimit = _fileLimitEnabled ? _fileLimitEntries : 0,
            DiffDiskQuotaBytes = _diskQuotaEnabled ? _diskQuotaBytes : 0,
            DiffFileSizeLimitBytes = _fileSizeEnabled ? _fileSizeBytes : 0,
        };

        if (options.ScanTime is not null || options.ScanDay is not null)
        {
            // run_check.c: a scheduled time or day turns the interval into one week.
            options = options with { FrequencySeconds = WeeklyFrequencySeconds };
        }

        if (_firstBlock is not null && !options.Disabled && _directories.Count == 0)
        {
            context.Warning(_firstBlock, "<syscheck> is enabled but monitors no directory; add a <directories> element");
        }

        return options;
    }

    private void ReadOption(XElement element)
    {
        var name = element.Name.LocalName;
        switch (name)
        {
            case "disabled":
                _disabled = context.YesNo(element) ?? _disabled;
                break;
            case "frequency":
                Set(context.Integer(element, 1, int.MaxValue, "seconds"), (o, v) => o with { FrequencySeconds = v });
                break;
            case "scan_time":
                Set(ParseScanTime(element), (o, v) => o with { ScanTime = v });
                break;
            case "scan_day":
                Set(ParseScanDay(element), (o, v) => o with { ScanDay = v });
                break;
            case "scan_on_start":
                Set(context.YesNo(element), (o, v) => o with { ScanOnStart = v });
                break;
            case "directories":
                ReadDirectories(element);
                break;
            case "ignore":
                AddFilter(element, _ignore);
                break;
            case "nodiff":
                AddFilter(element, _noDiff);
                break;
            case "skip_nfs":
                Set(context.YesNo(element), (o, v) => o with { SkipNfs = v });
                break;
            case "skip_dev":
                Set(context.YesNo(element), (o, v) => o with { SkipDev = v });
                break;
            case "skip_sys":
                Set(context.YesNo(element), (o, v) => o with { SkipSys = v });
                break;
            case "skip_proc":
                Set(context.YesNo(element), (o, v) => o with { SkipProc = v });
                break;
            case "file_limit":
                ReadFileLimit(element);
                break;
            case "database":
                ReadDatabase(element);
                break;
            case "max_eps":
                Set(context.Integer(element, 0, 1_000_000, "events per second"), (o, v) => o with { MaxEps = v });
                break;
            case "max_files_per_second":
                Set(context.Integer(element, 0, int.MaxValue, "files per second"), (o, v) => o with { MaxFilesPerSecond = v });
                break;
            case "max_realtime_watches":
                Set(context.Integer(element, 0, int.MaxValue, "inotify watches"), (o, v) => o with { MaxRealtimeWatches = v });
                break;
            case "process_priority":
                Set(context.Integer(element, -20, 19), (o, v) => o with { ProcessPriority = v });
                break;
            case "synchronization":
                ReadSynchronization(element);
                break;
            case "diff":
                ReadDiff(element);
                break;
            case "whodata":
                ReadWhodata(element);
                break;
            case "prefilter_cmd":
                var command = ConfigContext.Text(element);
                _options = _options with { PrefilterCommand = command.Length == 0 ? null : command };
                break;
            case "allow_remote_prefilter_cmd":
                Set(context.YesNo(element), (o, v) => o with { AllowRemotePrefilterCommand = v });
                break;
            case var _ when Deprecated.Contains(name):
                context.Warning(element, $"{ConfigContext.Name(element)} is deprecated in Wazuh and ignored");
                break;
            case var _ when WindowsOnly.Contains(name):
                context.Warning(element, $"{ConfigContext.Name(element)} applies to Windows agents only and is ignored");
                break;
            default:
                context.UnknownOption(element, "syscheck", Options);
                break;
        }
    }

    private void Set<T>(T? value, Func<SyscheckOptions, T, SyscheckOptions> apply)
        where T : struct
    {
        if (value is { } v)
        {
            _options = apply(_options, v);
        }
    }

    private TimeOnly? ParseScanTime(XElement element)
    {
        var value = ConfigContext.Text(element);
        var match = ScanTimePattern().Match(value);
        if (match.Success)
        {
            var hour = int.Parse(match.Groups["hour"].Value, CultureInfo.InvariantCulture);
            var minute = match.Groups["minute"].Success ? int.Parse(match.Groups["minute"].Value, CultureInfo.InvariantCulture) : 0;
            var half = match.Groups["half"].Value.ToLowerInvariant();
            var valid = half.Length == 0 ? match.Groups["minute"].Success && hour <= 23 : hour is >= 1 and <= 12;
            if (valid && minute <= 59)
            {
                hour = half switch
                {
                    "am" => hour % 12,
                    "pm" => (hour % 12) + 12,
                    _ => hour,
                };
                return new TimeOnly(hour, minute);
            }
        }

        context.Error(element, $"<scan_time> must be a time of day such as 10pm, 10:30am or 22:00, got {ConfigContext.Shown(value)}");
        return null;
    }

    private DayOfWeek? ParseScanDay(XElement element)
    {
        var value = ConfigContext.Text(element);
        foreach (var day in Enum.GetValues<DayOfWeek>())
        {
            var fullName = day.ToString();
            if (value.Equals(fullName, StringComparison.OrdinalIgnoreCase) || value.Equals(fullName[..3], StringComparison.OrdinalIgnoreCase))
            {
                return day;
            }
        }

        context.Error(element, $"<scan_day> must be one day of the week such as monday or mon, got {ConfigContext.Shown(value)}");
        return null;
    }

    private void ReadDirectories(XElement element)
    {
        var checks = FimChecks.All;
        var realtime = false;
        var whodata = false;
        var reportChanges = false;
        var followSymbolicLink = false;
        string? restrict = null;
        var recursionLevel = 256;
        IReadOnlyList<string> tags = [];
        long? diffSizeLimit = null;
        var prevention = Prevention.PreventionMode.Off;
        var valid = true;

        foreach (var attribute in element.Attributes())
        {
            var flag = attribute.Name.LocalName switch
            {
                "check_all" => FimChecks.All,
                "check_sum" => FimChecks.Hashes,
                "check_md5sum" => FimChecks.Md5,
                "check_sha1sum" => FimChecks.Sha1,
                "check_sha256sum" => FimChecks.Sha256,
                "check_size" => FimChecks.Size,
                "check_owner" => FimChecks.Owner,
                "check_group" => FimChecks.Group,
                "check_perm" => FimChecks.Permissions,
                "check_mtime" => FimChecks.Mtime,
                "check_inode" => FimChecks.Inode,
                _ => FimChecks.None,
            };

            if (flag != FimChecks.None)
            {
                // Attributes apply in order, as in read_attr: check_all="no" check_sha256sum="yes" keeps one hash.
                switch (context.YesNo(attribute))
                {
                    case true:
                        checks |= flag;
                        break;
                    case false:
                        checks &= ~flag;
                        break;
                    default:
                        valid = false;
                        break;
                }

                continue;
            }

            switch (attribute.Name.LocalName)
            {
                case "check_attrs":
                    valid &= context.YesNo(attribute) is not null;
                    context.Warning(attribute, "check_attrs applies to Windows agents only and is ignored");
                    break;
                case "realtime":
                    valid &= Flag(attribute, ref realtime);
                    break;
                case "whodata":
                    valid &= Flag(attribute, ref whodata);
                    break;
                case "report_changes":
                    valid &= Flag(attribute, ref reportChanges);
                    break;
                case "follow_symbolic_link":
                    valid &= Flag(attribute, ref followSymbolicLink);
                    break;
                case "restrict":
                    restrict = attribute.Value.Length == 0 ? null : attribute.Value;
                    break;
                case "recursion_level":
                    var level = context.Integer(attribute, 0, MaxRecursionLevel);
                    valid &= level is not null;
                    recursionLevel = level ?? recursionLevel;
                    break;
                case "tags":
                    var cleaned = attribute.Value.Replace(" ", "", StringComparison.Ordinal)
                        .Replace("!", "", StringComparison.Ordinal)
                        .Replace(":", "", StringComparison.Ordinal);
                    tags = ConfigContext.CommaList(cleaned);
                    break;
                case "diff_size_limit":
                    var limit = context.DataSize(attribute, OneKilobyte);
                    valid &= limit is not null;
                    diffSizeLimit = limit ?? diffSizeLimit;
                    break;
                case "prevention":
                    // Vigil's on-access prevention (docs/prevention.md): off, audit or block.
                    switch (attribute.Value.Trim())
                    {
                        case "off":
                            prevention = Prevention.PreventionMode.Off;
                            break;
                        case "audit":
                            prevention = Prevention.PreventionMode.Audit;
                            break;
                        case "block":
                            prevention = Prevention.PreventionMode.Block;
                            break;
                        default:
                            context.Error(attribute, $"prevention must be off, audit or block, got {ConfigContext.Shown(attribute.Value)}");
                            valid = false;
                            break;
                    }

                    break;
                default:
                    context.Error(attribute, $"{attribute.Name.LocalName} is not a valid attribute of <directories>; allowed: "
                        + string.Join(", ", DirectoryAttributes));
                    valid = false;
                    break;
            }
        }

        var paths = ConfigContext.CommaList(ConfigContext.Text(element));
        if (paths.Count == 0)
        {
            context.Error(element, "<directories> must list at least one absolute path");
            return;
        }

        if (paths.Count > MaxPathsPerElement)
        {
            context.Error(element, $"<directories> lists {paths.Count} paths; at most {MaxPathsPerElement} are allowed per element");
            return;
        }

        if (!valid)
        {
            return;
        }

        var template = new DirectoryOptions
        {
            Path = "/",
            Checks = checks,
            // read_attr: when both are set, whodata wins and realtime is cleared.
            Realtime = realtime && !whodata,
            Whodata = whodata,
            ReportChanges = reportChanges,
            Restrict = restrict,
            RecursionLevel = recursionLevel,
            Tags = tags,
            FollowSymbolicLink = followSymbolicLink,
            DiffSizeLimitBytes = diffSizeLimit,
            Prevention = prevention,
            Source = context.Locate(element),
        };

        foreach (var raw in paths)
        {
            if (ExpandEnvironment(element, raw) is not { } path)
            {
                continue;
            }

            if (path.IndexOfAny(['*', '?', '[']) >= 0)
            {
                context.Warning(element, $"Vigil does not expand wildcards; the path {ConfigContext.Shown(path)} is not monitored");
                continue;
            }

            if (!path.StartsWith('/'))
            {
                context.Error(element, $"<directories> paths must be absolute, got {ConfigContext.Shown(path)}");
                continue;
            }

            var normalized = path.Length > 1 ? path.TrimEnd('/') : path;
            var directory = template with { Path = normalized.Length == 0 ? "/" : normalized };
            var existing = _directories.FindIndex(d => d.Path == directory.Path);
            if (existing >= 0)
            {
                _directories[existing] = directory;
            }
            else
            {
                _directories.Add(directory);
            }
        }
    }

    private bool Flag(XAttribute attribute, ref bool value)
    {
        if (context.YesNo(attribute) is { } parsed)
        {
            value = parsed;
            return true;
        }

        return false;
    }

    /// <summary>Expands <c>$NAME</c> and <c>${NAME}</c>; a variable that is not set skips the path with a warning.</summary>
    private string? ExpandEnvironment(XElement element, string path)
    {
        if (!path.Contains('$', StringComparison.Ordinal))
        {
            return path;
        }

        var missing = new List<string>();
        var expanded = EnvironmentReference().Replace(path, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
            var value = context.Options.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
            {
                missing.Add(name);
                return match.Value;
            }

            return value;
        });

        if (missing.Count > 0)
        {
            context.Warning(element, $"environment variable {string.Join(", ", missing)} in {ConfigContext.Shown(path)} is not set; the path is not monitored");
            return null;
        }

        return expanded;
    }

    private void AddFilter(XElement element, List<PathFilter> filters)
    {
        var isSregex = false;
        foreach (var attribute in element.Attributes())
        {
            if (attribute.Name.LocalName == "type" && attribute.Value == "sregex")
            {
                isSregex = true;
            }
            else
            {
                var what = attribute.Name.LocalName == "type"
                    ? $"type on {ConfigContext.Name(element)} must be 'sregex', got {ConfigContext.Shown(attribute.Value)}"
                    : $"{attribute.Name.LocalName} is not a valid attribute of {ConfigContext.Name(element)}; allowed: type=\"sregex\"";
                context.Error(attribute, what);
                return;
            }
        }

        var pattern = ConfigContext.Text(element);
        if (pattern.Length == 0)
        {
            context.Error(element, $"{ConfigContext.Name(element)} must hold a path or, with type=\"sregex\", a pattern; got an empty value");
            return;
        }

        filters.Add(new PathFilter(pattern, isSregex) { Source = context.Locate(element) });
    }

    private void ReadFileLimit(XElement block)
    {
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "enabled":
                    _fileLimitEnabled = context.YesNo(element) ?? _fileLimitEnabled;
                    break;
                case "entries":
                    _fileLimitEntries = context.Integer(element, 1, int.MaxValue) ?? _fileLimitEntries;
                    break;
                default:
                    context.UnknownOption(element, "file_limit", ["enabled", "entries"]);
                    break;
            }
        }
    }

    private void ReadDatabase(XElement element)
    {
        var value = ConfigContext.Text(element);
        if (value is "disk" or "memory")
        {
            _options = _options with { Database = value };
        }
        else
        {
            context.Error(element, $"<database> must be 'disk' or 'memory', got {ConfigContext.Shown(value)}");
        }
    }

    private void ReadSynchronization(XElement block)
    {
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "enabled":
                    Set(context.YesNo(element), (o, v) => o with { SynchronizationEnabled = v });
                    break;
                case "interval":
                    Set(context.Duration(element, 1), (o, v) => o with { SynchronizationIntervalSeconds = v });
                    break;
                case "max_interval":
                    Set(context.Duration(element, 1), (o, v) => o with { SynchronizationMaxIntervalSeconds = v });
                    break;
                case "response_timeout":
                    Set(context.Duration(element, 1), (o, v) => o with { SynchronizationResponseTimeoutSeconds = v });
                    break;
                case "queue_size":
                    Set(context.Integer(element, 2, 1_000_000), (o, v) => o with { SynchronizationQueueSize = v });
                    break;
                case "max_eps":
                    Set(context.Integer(element, 0, 1_000_000, "events per second"), (o, v) => o with { SynchronizationMaxEps = v });
                    break;
                case "thread_pool":
                    context.Integer(element, 1, int.MaxValue);
                    break;
                case "registry_enabled":
                    context.Warning(element, "<registry_enabled> applies to Windows agents only and is ignored");
                    break;
                default:
                    context.UnknownOption(element, "synchronization",
                        ["enabled", "interval", "max_interval", "response_timeout", "queue_size", "max_eps", "thread_pool"]);
                    break;
            }
        }

        if (_options.SynchronizationMaxIntervalSeconds < _options.SynchronizationIntervalSeconds)
        {
            context.Warning(block, $"<max_interval> cannot be less than <interval>; using {_options.SynchronizationIntervalSeconds} seconds");
            _options = _options with { SynchronizationMaxIntervalSeconds = _options.SynchronizationIntervalSeconds };
        }
    }

    private void ReadDiff(XElement block)
    {
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "disk_quota":
                    ReadLimit(element, ref _diskQuotaEnabled, ref _diskQuotaBytes);
                    break;
                case "file_size":
                    ReadLimit(element, ref _fileSizeEnabled, ref _fileSizeBytes);
                    break;
                case "nodiff":
                    AddFilter(element, _noDiff);
                    break;
                case "registry_nodiff":
                    context.Warning(element, "<registry_nodiff> applies to Windows agents only and is ignored");
                    break;
                default:
                    context.UnknownOption(element, "diff", ["disk_quota", "file_size", "nodiff"]);
                    break;
            }
        }
    }

    private void ReadLimit(XElement block, ref bool enabled, ref long bytes)
    {
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "enabled":
                    enabled = context.YesNo(element) ?? enabled;
                    break;
                case "limit":
                    bytes = context.DataSize(element, OneKilobyte) ?? bytes;
                    break;
                default:
                    context.UnknownOption(element, block.Name.LocalName, ["enabled", "limit"]);
                    break;
            }
        }
    }

    /// <summary>Whodata settings configure Linux audit or eBPF, which Vigil does not use; they are validated only.</summary>
    private void ReadWhodata(XElement block)
    {
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "audit_key":
                    break;
                case "startup_healthcheck" or "restart_audit":
                    context.YesNo(element);
                    break;
                case "provider":
                    var provider = ConfigContext.Text(element);
                    if (provider is not ("audit" or "ebpf"))
                    {
                        context.Error(element, $"<provider> must be 'audit' or 'ebpf', got {ConfigContext.Shown(provider)}");
                    }

                    break;
                case "queue_size":
                    context.Integer(element, 1, int.MaxValue);
                    break;
                default:
                    context.UnknownOption(element, "whodata", ["audit_key", "startup_healthcheck", "restart_audit", "provider", "queue_size"]);
                    break;
            }
        }
    }

    [GeneratedRegex(@"^(?<hour>\d{1,2})(?::(?<minute>\d{2}))?\s*(?<half>[aApP][mM])?$")]
    private static partial Regex ScanTimePattern();

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex EnvironmentReference();
}
