using Microsoft.Extensions.Logging;
using Vigil.Web;

namespace Vigil.Manager;

/// <summary>
/// A host with the API and dashboard in front of it: started after the host (so the operations it offers exist),
/// stopped before it. A dashboard that cannot start (its port taken, a bad certificate) is reported and detection
/// runs on without it.
/// </summary>
internal sealed class WebFrontedHost(IAsyncDisposable host, AlertIndexing indexing, WebOptions? options, TextWriter output, ILoggerFactory loggers) : IAsyncDisposable
{
    private VigilWebServer? _server;

    public VigilWebServer? Server => _server;

    /// <summary>Starts the host, then the dashboard, then waits for <c>untilReady</c> (the first scan), so the dashboard is up from the start.</summary>
    public async Task StartAsync(
        Func<CancellationToken, Task> startHost, Func<IManagerOperations> operations, CancellationToken cancellationToken, Func<CancellationToken, Task>? untilReady = null)
    {
        await startHost(cancellationToken);
        await StartWebAsync(operations, cancellationToken);
        if (untilReady is not null)
        {
            await untilReady(cancellationToken);
        }
    }

    private async Task StartWebAsync(Func<IManagerOperations> operations, CancellationToken cancellationToken)
    {
        if (options is null)
        {
            await output.WriteLineAsync("vigil: API and dashboard off (--no-web)");
            return;
        }

        try
        {
            _server = await VigilWebServer.StartAsync(options, indexing.Index, indexing.Feed, operations(), loggers, TimeProvider.System, output, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or InvalidOperationException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"vigil: the API and dashboard did not start on {options.ListenAddress}:{options.Port}: {ex.Message}; detection runs on without them");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await host.DisposeAsync();
        await indexing.DisposeAsync();
    }
}
