using System.Text;

namespace Vigil.Response.RemoveThreat;

/// <summary>
/// Whether <c>active-response/bin/remove-threat</c> is one Vigil ships, which Vigil's execd runs in process: the
/// checkout's script wrapper around <c>vigil remove-threat</c>, or the package's native build of the same command
/// (an ELF file carrying <see cref="NativeMarker"/>). Anything else an operator put there runs as a child process.
/// </summary>
internal static class ShippedRemoveThreat
{
    /// <summary>
    /// Text the native build carries (its help says it), by which it is recognised. It is searched for as UTF-16, the
    /// form of a string literal in a NativeAOT image; it sits inside the help text, not at its end, where the image's
    /// text was found not to end as plain UTF-16.
    /// </summary>
    public const string NativeMarker = "Native build of `vigil remove-threat`";

    private const long MaxNativeSize = 64L << 20;

    public static bool IsShipped(string path, string wrapperMarker)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || !info.Exists)
            {
                return false;
            }

            if (info.Length <= 4096 && File.ReadAllText(path).Contains(wrapperMarker, StringComparison.Ordinal))
            {
                return true;
            }

            return info.Length <= MaxNativeSize && IsNativeBuild(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsNativeBuild(byte[] bytes) =>
        bytes.AsSpan().StartsWith("\u007fELF"u8)
        && (bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(NativeMarker)) >= 0 || bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(NativeMarker)) >= 0);
}
