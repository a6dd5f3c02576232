using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads one <c>&lt;command&gt;</c> block: an active-response program (spec §5.1).</summary>
internal static class CommandReader
{
    private static readonly string[] Allowed = ["name", "executable", "timeout_allowed", "extra_args", "expect"];

    public static CommandOptions? Read(ConfigContext context, XElement block)
    {
        string? name = null;
        string? executable = null;
        var timeoutAllowed = false;
        IReadOnlyList<string> extraArgs = [];
        var valid = true;

        foreach (var element in block.Elements())
        {
            var value = ConfigContext.Text(element);
            switch (element.Name.LocalName)
            {
                case "name":
                    if (value.Length == 0 || value.StartsWith('!'))
                    {
                        context.Error(element, $"<name> of a <command> must be a non-empty name not starting with '!', got {ConfigContext.Shown(value)}");
                        valid = false;
                    }
                    else
                    {
                        name = value;
                    }

                    break;
                case "executable":
                    if (IsBareFileName(value))
                    {
                        executable = value;
                    }
                    else
                    {
                        context.Error(element, "<executable> must be a bare file name inside active-response/bin "
                            + $"(no '/', no '..', not starting with '!'), got {ConfigContext.Shown(value)}");
                        valid = false;
                    }

                    break;
                case "timeout_allowed":
                    if (context.YesNo(element) is { } allowed)
                    {
                        timeoutAllowed = allowed;
                    }
                    else
                    {
                        valid = false;
                    }

                    break;
                case "extra_args":
                    extraArgs = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    break;
                case "expect":
                    context.Warning(element, "<expect> is deprecated since Wazuh 4.2 and ignored");
                    break;
                default:
                    context.UnknownOption(element, "command", Allowed);
                    valid = false;
                    break;
            }
        }

        if (block.Element("name") is null)
        {
            context.Error(block, "<command> needs a <name>");
            valid = false;
        }

        if (block.Element("executable") is null)
        {
            context.Error(block, "<command> needs an <executable>");
            valid = false;
        }

        if (!valid || name is null || executable is null)
        {
            return null;
        }

        return new CommandOptions
        {
            Name = name,
            Executable = executable,
            TimeoutAllowed = timeoutAllowed,
            ExtraArgs = extraArgs,
            Source = context.Locate(block),
        };
    }

    private static bool IsBareFileName(string value) =>
        value.Length > 0
        && !value.Contains('/')
        && !value.Contains('\0')
        && !value.Contains("..", StringComparison.Ordinal)
        && !value.StartsWith('!');
}
