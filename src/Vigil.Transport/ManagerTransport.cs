using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vigil.Transport.Channel;
using Vigil.Transport.Enrollment;
using Vigil.Transport.Registry;
using Vigil.Transport.Security;

namespace Vigil.Transport;

/// <summary>Where the manager listens: 127.0.0.1 by default; 1514 for agents (mutual TLS), 1515 for enrollment (TLS).</summary>
internal sealed record ManagerTransportOptions
{
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    public int AgentPort { get; init; } = 1514;

    public int EnrollmentPort { get; init; } = 1515;

    public required string DataDirectory { get; init; }

    public required string Password { get; init; }

    /// <summary>The manager's version in the handshake: it serves agents of this version or older.</summary>
    public string Version { get; init; } = Core.VigilVersion.Current;
}

/// <summary>What the gRPC services share.</summary>
internal sealed record ManagerTransportContext(
    CertificateAuthority Authority,
    IAgentDirectory Registry,
    SessionTable Sessions,
    IAgentEventHandler Handler,
    string Password,
    TimeProvider Time)
{
    /// <summary>Cancelled when the manager stops: agent streams end at once instead of holding the shutdown.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>The manager's version (<see cref="ManagerTransportOptions.Version"/>).</summary>
    public string Version { get; init; } = Core.VigilVersion.Current;
}

/// <summary>The manager's listeners: Kestrel over HTTP/2 with the CA-issued server certificate.</summary>
internal sealed class ManagerTransport(WebApplication app, ManagerTransportContext context) : IAsyncDisposable
{
    public SessionTable Sessions => context.Sessions;

    public static async Task<ManagerTransport> StartAsync(
        ManagerTransportOptions options,
        CertificateAuthority authority,
        IAgentDirectory registry,
        IAgentEventHandler handler,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var context = new ManagerTransportContext(authority, registry, new SessionTable(), handler, options.Password, time) { Version = options.Version };
        var hosts = new List<string> { "localhost", "127.0.0.1", "::1", Dns.GetHostName() };
        if (!options.ListenAddress.Equals(IPAddress.Any) && !options.ListenAddress.Equals(IPAddress.IPv6Any))
        {
            hosts.Add(options.ListenAddress.ToString());
        }

        var serverCertificate = authority.IssueServerCertificate(hosts);
        var refusals = loggerFactory.CreateLogger("Vigil.Transport");
        // The listeners read no configuration file. Without these options the web host takes the current directory as
        // its content root and watches it, and every directory below it, for a changed appsettings.json: a manager started
        // in / (systemd's default) would put an inotify watch on every directory of the host, and every file written
        // below its working directory would wake a thread of the manager.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(time);
        builder.Services.AddGrpc();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(10);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

            // An agent's message is up to about 1 MiB (64 FIM events are about 80 KiB): with the default windows
            // (96 KiB a stream) a large one would wait for several window updates on its way in.
            kestrel.Limits.Http2.InitialStreamWindowSize = 768 * 1024;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 1024 * 1024;
            kestrel.Listen(options.ListenAddress, options.EnrollmentPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
                });
            });
            kestrel.Listen(options.ListenAddress, options.AgentPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    // The TLS handshake already refuses a certificate from another CA (Kestrel says so only at Debug
                    // level, hence the log here); the stream then refuses a missing certificate, naming the peer, and
                    // checks the registry.
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) =>
                    {
                        var issued = CertificateAuthority.IsIssuedBy(certificate, authority.Certificate);
                        if (!issued)
                        {
                            TransportLog.AgentRefused(refusals, "(TLS handshake)", $"client certificate {certificate.Subject} is not issued by this manager's CA");
                        }

                        return issued;
                    };
                });
            });
        });

        var app = builder.Build();
        app.MapGrpcService<EnrollmentService>();
        app.MapGrpcService<AgentChannelService>();
        await app.StartAsync(cancellationToken);
        return new ManagerTransport(app, context);
    }

    public async ValueTask DisposeAsync()
    {
        await context.Stopping.CancelAsync();
        foreach (var session in context.Sessions.All)
        {
            session.Close();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(timeout.Token);
        await app.DisposeAsync();
        context.Stopping.Dispose();
    }
}
