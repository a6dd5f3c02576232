namespace Vigil.Response;

internal static class AssemblyMarker
{
}
