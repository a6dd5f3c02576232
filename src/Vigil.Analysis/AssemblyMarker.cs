namespace Vigil.Analysis;

internal static class AssemblyMarker
{
}
