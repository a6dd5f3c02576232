using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads <c>&lt;ruleset&gt;</c>: entries of every block accumulate in file order.</summary>
internal static class RulesetReader
{
    private static readonly string[] Allowed =
    [
        "decoder_dir", "decoder_include", "decoder_exclude", "rule_dir", "rule_include", "rule_exclude", "list",
        "user_defined_decoder",
    ];

    public static RulesetOptions Read(ConfigContext context, XElement block, RulesetOptions current)
    {
        // The first <ruleset> block replaces Vigil's defaults; later blocks add to it.
        var start = current.IsDefault ? new RulesetOptions() : current;
        var decoderDirs = new List<string>(start.DecoderDirs);
        var decoderFiles = new List<string>(start.DecoderFiles);
        var decoderExcludes = new List<string>(start.DecoderExcludes);
        var ruleDirs = new List<string>(start.RuleDirs);
        var ruleFiles = new List<string>(start.RuleFiles);
        var ruleExcludes = new List<string>(start.RuleExcludes);
        var lists = new List<string>(start.Lists);

        foreach (var element in block.Elements())
        {
            var target = element.Name.LocalName switch
            {
                "decoder_dir" => decoderDirs,
                "decoder_include" => decoderFiles,
                "decoder_exclude" => decoderExcludes,
                "rule_dir" => ruleDirs,
                "rule_include" => ruleFiles,
                "rule_exclude" => ruleExcludes,
                "list" => lists,
                _ => null,
            };

            if (element.Name.LocalName == "user_defined_decoder")
            {
                context.Warning(element, "<user_defined_decoder> is not supported by Vigil and is ignored");
                continue;
            }

            if (target is null)
            {
                context.UnknownOption(element, "ruleset", Allowed);
                continue;
            }

            if (element.Attribute("pattern") is { } pattern)
            {
                context.Warning(pattern, $"{ConfigContext.Name(pattern)} is not supported; Vigil loads every .xml file of the directory");
            }

            var value = ConfigContext.Text(element);
            if (value.Length == 0)
            {
                context.Error(element, $"{ConfigContext.Name(element)} must name a file or directory, got an empty value");
                continue;
            }

            target.Add(value);
        }

        return new RulesetOptions
        {
            DecoderDirs = decoderDirs,
            DecoderFiles = decoderFiles,
            DecoderExcludes = decoderExcludes,
            RuleDirs = ruleDirs,
            RuleFiles = ruleFiles,
            RuleExcludes = ruleExcludes,
            Lists = lists,
            IsDefault = false,
        };
    }
}
