namespace Vigil.Intel;

internal static class AssemblyMarker
{
}
