using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Core;
using Vigil.Web.Index;

namespace Vigil.Web;

/// <summary>
/// The API and dashboard on Kestrel, inside a host that owns the process (<c>vigil run</c>, <c>vigil manager</c>):
/// binds <see cref="WebOptions.ListenAddress"/>:<see cref="WebOptions.Port"/>, over HTTPS when a certificate is
/// configured, and leaves signals and shutdown to that host.
/// </summary>
internal sealed class VigilWebServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private VigilWebServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The address it listens on, with the port Kestrel picked when the options said 0.</summary>
    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<VigilWebServer> StartAsync(
        WebOptions options,
        IAlertStore index,
        AlertFeed feed,
        IManagerOperations operations,
        ILoggerFactory loggers,
        TimeProvider time,
        TextWriter output,
        CancellationToken cancellationToken)
    {
        var listenAddress = string.Equals(options.ListenAddress, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(options.ListenAddress, out var parsed) ? parsed
            : throw new VigilException($"the dashboard's listen address '{options.ListenAddress}' is not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or localhost)", isFatal: true);
        var certificate = LoadCertificate(options);
        // The dashboard reads no configuration file. With reload on change the web host would watch its content root,
        // and every directory below it, for a changed appsettings.json: one inotify watch per directory of the
        // application folder, and a thread woken by every file written below it.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            void Configure(ListenOptions listen)
            {
                // HTTP/2 needs TLS's protocol negotiation: plain HTTP on loopback is HTTP/1.1 only.
                listen.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }

                // After TLS, so that it sees the plain response: Kestrel's own 4xx become problem documents.
                listen.Use(BadRequestProblems.Middleware);
            }

            kestrel.Listen(listenAddress, options.Port, Configure);
        });
        builder.Services.AddSingleton(index);
        builder.Services.AddSingleton(feed);
        builder.Services.AddSingleton(operations);
        builder.Services.AddSingleton(time);
        builder.Services.AddVigilWeb(options);

        var app = builder.Build();
        try
        {
            app.UseVigilWeb();
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel did not report the address it bound");
            var server = new VigilWebServer(app, new Uri(address));
            await output.WriteLineAsync($"vigil: dashboard on {server.BaseAddress}");
            if (app.Services.GetRequiredService<WebBootstrap>().GeneratedAdminPassword is { } password)
            {
                // Shown this once: only its salted hash is stored.
                await output.WriteLineAsync($"vigil: created the dashboard user 'admin' with the password {password} (shown once; set VIGIL_ADMIN_PASSWORD to choose it)");
            }

            return server;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The certificate: a PFX, or PEM with the key in <see cref="WebOptions.CertificateKeyPath"/> or the same file.</summary>
    private static X509Certificate2? LoadCertificate(WebOptions options)
    {
        if (string.IsNullOrEmpty(options.CertificatePath))
        {
            return null;
        }

        var path = options.CertificatePath;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        }

        return X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>The owning host handles signals; this one must not stop on SIGTERM by itself.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
