using System.Globalization;
using System.Xml.Linq;
using Vigil.Core.Prevention;

namespace Vigil.Core.Configuration;

/// <summary>Reads Vigil's <c>&lt;prevention&gt;</c> block (docs/prevention.md); a later block overrides an earlier one option by option.</summary>
internal static class PreventionReader
{
    private const int MaxDeadlineMilliseconds = 10_000;

    private static readonly string[] Options =
        ["deadline", "on_timeout", "hold_unknown_exec", "filesystems", "queue_size", "max_file_size", "workers", "hash_list"];

    public static PreventionOptions Read(ConfigContext context, XElement block, PreventionOptions current)
    {
        var options = current;
        var hashLists = new List<string>(current.HashLists);
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "deadline":
                    options = Deadline(context, element) is { } deadline ? options with { Deadline = deadline } : options;
                    break;
                case "on_timeout":
                    var policy = ConfigContext.Text(element);
                    if (policy is "allow" or "deny")
                    {
                        options = options with { OnTimeout = policy == "allow" ? PreventionTimeoutPolicy.Allow : PreventionTimeoutPolicy.Deny };
                    }
                    else
                    {
                        context.Error(element, $"<on_timeout> must be allow or deny, got {ConfigContext.Shown(policy)}");
                    }

                    break;
                case "hold_unknown_exec":
                    options = context.YesNo(element) is { } hold ? options with { HoldUnknownExec = hold } : options;
                    break;
                case "filesystems":
                    options = FileSystems(context, element) is { } types ? options with { FileSystems = types } : options;
                    break;
                case "queue_size":
                    options = context.Integer(element, 16, 1_000_000, "events") is { } size ? options with { QueueSize = size } : options;
                    break;
                case "max_file_size":
                    options = context.DataSize(element, 1) is { } bytes ? options with { MaxFileSizeBytes = bytes } : options;
                    break;
                case "workers":
                    options = context.Integer(element, 1, 64, "threads") is { } workers ? options with { Workers = workers } : options;
                    break;
                case "hash_list":
                    var path = ConfigContext.Text(element);
                    if (path.Length == 0)
                    {
                        context.Error(element, "<hash_list> must name a file");
                    }
                    else
                    {
                        hashLists.Add(path);
                    }

                    break;
                default:
                    context.UnknownOption(element, "prevention", Options);
                    break;
            }
        }

        return options with { HashLists = hashLists };
    }

    // "250ms", "1s" or a plain number of milliseconds; at most 10 s: a process waits that long at worst.
    private static TimeSpan? Deadline(ConfigContext context, XElement element)
    {
        var value = ConfigContext.Text(element);
        var (digits, scale) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 1)
            : value.EndsWith('s') ? (value[..^1], 1000)
            : (value, 1);
        if (ConfigContext.TryParseDigits(digits, out var number) && number * scale is > 0 and <= MaxDeadlineMilliseconds)
        {
            return TimeSpan.FromMilliseconds(number * scale);
        }

        context.Error(element, string.Create(CultureInfo.InvariantCulture,
            $"<deadline> must be a time from 1ms to {MaxDeadlineMilliseconds / 1000}s such as 250ms or 1s, got {ConfigContext.Shown(value)}"));
        return null;
    }

    private static IReadOnlyList<string>? FileSystems(ConfigContext context, XElement element)
    {
        var types = ConfigContext.CommaList(ConfigContext.Text(element));
        if (types.Count == 0)
        {
            context.Error(element, "<filesystems> must list at least one filesystem type, e.g. ext4,xfs");
            return null;
        }

        var refused = types.Where(PreventionOptions.NeverMarked.Contains).ToList();
        if (refused.Count > 0)
        {
            // A permission event on these can wait on the network or on a user-space daemon: a host-wide hang.
            context.Error(element, $"<filesystems> may not list {string.Join(", ", refused)}: network, FUSE and pseudo filesystems are never marked");
            return null;
        }

        return types;
    }
}
