using Vigil.Core.Native;

namespace Vigil.Cli;

/// <summary>
/// .NET decodes the command line as UTF-8 with U+FFFD for what is not, so a file name given as bytes that are not
/// valid UTF-8 (<c>vigil scan $'bad\377.com'</c>) would name a file that does not exist. Such an argument is taken
/// again from /proc/self/cmdline, as <see cref="PathBytes"/> writes it.
/// </summary>
internal static class CommandLineBytes
{
    public static IReadOnlyList<string> Recover(IReadOnlyList<string> arguments)
    {
        if (!arguments.Any(a => a.Contains('\uFFFD', StringComparison.Ordinal)))
        {
            return arguments;
        }

        byte[] cmdline;
        try
        {
            cmdline = File.ReadAllBytes("/proc/self/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return arguments;
        }

        var raw = cmdline.AsSpan().TrimEnd((byte)0).ToArray().AsSpan();
        var candidates = new List<byte[]>();
        foreach (var range in raw.Split((byte)0))
        {
            candidates.Add(raw[range].ToArray());
        }

        return [.. arguments.Select(a =>
        {
            if (!a.Contains('\uFFFD', StringComparison.Ordinal))
            {
                return a;
            }

            var match = candidates.FirstOrDefault(c => System.Text.Encoding.UTF8.GetString(c) == a);
            return match is null ? a : PathBytes.FromBytes(match);
        })];
    }
}
