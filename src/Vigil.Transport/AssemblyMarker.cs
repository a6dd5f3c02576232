namespace Vigil.Transport;

internal static class AssemblyMarker
{
}
