namespace Vigil.Fim;

internal static class AssemblyMarker
{
}
