using System.CommandLine;
using Vigil.Core;
using Vigil.Intel.Yara;

namespace Vigil.Cli;

/// <summary>
/// `vigil yara check FILE|DIR…`: compiles YARA rules as the engine does and reports every error with file:line. Exit 0
/// when they compile, 1 when any file has an error, 4 when libyara cannot be loaded.
/// </summary>
internal static class YaraCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new Argument<string[]>("rules") { Description = "Rule files or directories (every *.yar and *.yara below).", Arity = ArgumentArity.OneOrMore };
        var check = new Command("check", "Compile YARA rules and report errors with file:line.") { paths };
        check.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            YaraCompileResult result;
            try
            {
                result = YaraCompiler.Compile(parseResult.GetValue(paths)!);
            }
            catch (VigilException ex)
            {
                error.WriteLine($"vigil yara check: {ex.Message}");
                return ExitCodes.IoError;
            }

            using (result.Rules)
            {
                foreach (var diagnostic in result.Diagnostics)
                {
                    (diagnostic.IsError ? error : output).WriteLine(diagnostic.ToString());
                }

                if (result.HasErrors)
                {
                    error.WriteLine($"vigil yara check: {result.Diagnostics.Count(d => d.IsError)} error(s); the rules do not compile");
                    return ExitCodes.Findings;
                }

                output.WriteLine($"vigil yara check: {result.Files.Count} rule file(s) compile; rules version {result.Version[..16]}");
                return ExitCodes.Success;
            }
        });
        var command = new Command("yara", "YARA rules.") { check };
        root.Subcommands.Add(command);
    }
}
