using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Hosting;
using Vigil.Web;

namespace Vigil.Manager;

/// <summary>
/// The API and dashboard in front of a host, as one of its stages: listed after the host's own (so the operations
/// it offers exist), it is stopped before them. A dashboard that cannot start (its port taken, a bad certificate) is
/// reported and detection runs on without it.
/// </summary>
internal sealed class WebFront(AlertIndexing indexing, WebOptions? options, TextWriter output, ILoggerFactory loggers)
{
    private VigilWebServer? _server;

    public VigilWebServer? Server => _server;

    /// <summary>The stage: the server starts with <paramref name="operations"/> (made once the host's stages before it have started).</summary>
    public IHostedService Service(Func<IManagerOperations> operations) =>
        VigilHost.Stage(token => StartAsync(operations, token), async () =>
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        });

    private async Task StartAsync(Func<IManagerOperations> operations, CancellationToken cancellationToken)
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
}
