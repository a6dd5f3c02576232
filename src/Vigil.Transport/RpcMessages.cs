using Grpc.Core;

namespace Vigil.Transport;

/// <summary>gRPC failures in words a user understands, naming the manager.</summary>
internal static class RpcMessages
{
    /// <summary>"cannot connect to manager HOST:PORT …" for an unreachable manager; the status and its detail otherwise.</summary>
    public static string Describe(RpcException exception, string manager)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.StatusCode == StatusCode.Unavailable)
        {
            var cause = Innermost(exception.Status.DebugException)?.Message;
            return $"cannot connect to manager {manager}{(cause is { Length: > 0 } ? $": {cause}" : "")} (is `vigil manager` running and listening there?)";
        }

        if (exception.StatusCode == StatusCode.DeadlineExceeded)
        {
            return $"manager {manager} did not answer in time";
        }

        if (exception.StatusCode == StatusCode.FailedPrecondition)
        {
            return $"refused by manager {manager}: {exception.Status.Detail}";
        }

        return $"{exception.StatusCode}: {exception.Status.Detail}";
    }

    private static Exception? Innermost(Exception? exception)
    {
        while (exception?.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }
}
