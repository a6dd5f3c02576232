using System.CommandLine;
using Vigil.Core;

namespace Vigil.Cli;

/// <summary>`vigil eicar PATH`: writes the EICAR test file (these machines cannot download it).</summary>
internal static class EicarCommand
{
    public static void AddTo(RootCommand root)
    {
        var path = new Argument<FileInfo>("path") { Description = "Where to write the 68-byte EICAR test file." };
        var command = new Command("eicar", "Write the EICAR anti-malware test file.") { path };
        command.SetAction(parseResult =>
        {
            var file = parseResult.GetValue(path)!;
            try
            {
                File.WriteAllBytes(file.FullName, Eicar.Bytes);
                Console.WriteLine($"wrote EICAR test file {file.FullName} (sha256 {Eicar.Sha256})");
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"vigil eicar: {file.FullName}: {ex.Message}");
                return ExitCodes.IoError;
            }
        });
        root.Subcommands.Add(command);
    }
}
