using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Events;
using Vigil.Tests.Common;
using Vigil.Transport.Agent;
using Vigil.Transport.Channel;
using Vigil.Transport.Protocol;
using Vigil.Transport.Registry;
using Vigil.Transport.Security;

namespace Vigil.Transport.Tests.Channel;

/// <summary>The manager's listeners on 127.0.0.1 with real TLS, and real agent connections.</summary>
public sealed class ManagerTransportTests : IAsyncLifetime
{
    private const string Password = "pw-for-tests";
    private readonly TempDirectory _temp = new();
    private readonly RecordingHandler _handler = new();
    private readonly RecordingLoggerFactory _log = new();
    private CertificateAuthority? _authority;
    private AgentRegistry? _registry;
    private ManagerTransport? _transport;
    private int _agentPort;
    private int _enrollmentPort;

    public async Task InitializeAsync()
    {
        _authority = CertificateAuthority.LoadOrCreate(_temp.Combine("manager", "ca"), TimeProvider.System);
        _registry = new AgentRegistry(_temp.Combine("manager", "agents.db"));
        _agentPort = FreePort();
        _enrollmentPort = FreePort();
        _transport = await ManagerTransport.StartAsync(
            new ManagerTransportOptions { AgentPort = _agentPort, EnrollmentPort = _enrollmentPort, DataDirectory = _temp.Combine("manager"), Password = Password },
            _authority, _registry, _handler, _log, TimeProvider.System, CancellationToken.None);
    }

    [Fact]
    public void StartAsync_Listening_WatchesNoDirectory()
    {
        // Every inotify watch of this process (a web host watching its working directory for appsettings.json holds
        // one per directory below it); the transport must hold none.
        var watches = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fdinfo"))
        {
            try
            {
                watches += File.ReadLines(fd).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }

        Assert.Equal(0, watches);
    }

    [Fact]
    public void LoadOrCreate_FirstStart_KeyIsOwnerOnly()
    {
        var mode = File.GetUnixFileMode(_temp.Combine("manager", "ca", "ca.key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task Connect_EnrolledAgent_EventLocationIsRewrittenToTheAuthenticatedIdentity()
    {
        var credentials = await EnrollAsync("web-01");
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        queue.Enqueue(new EventMessage(EventMessage.SyscheckQueue, "[999] (forged) 10.9.9.9->syscheck", "{}"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System);
        var running = connection.RunAsync(stop.Token);

        var (agent, message) = await _handler.Events.Reader.ReadAsync(stop.Token);
        Assert.Equal("001", agent);
        Assert.StartsWith("[001] (web-01) 127.0.0.1->", message.Location, StringComparison.Ordinal);
        Assert.Equal("001", message.SplitLocation().Agent!.Id);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Connect_QueueLongerThanOneMessage_EveryEventArrivesOnceInOrder()
    {
        var credentials = await EnrollAsync("batch-01");
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        const int Count = 1300; // many messages of at most 64 events
        for (var i = 1; i <= Count; i++)
        {
            queue.Enqueue(new EventMessage(EventMessage.SyscheckQueue, "syscheck", $"{{\"n\":{i}}}"));
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System);
        var running = connection.RunAsync(stop.Token);
        for (var i = 1; i <= Count; i++)
        {
            var (agent, message) = await _handler.Events.Reader.ReadAsync(stop.Token);
            Assert.Equal("001", agent);
            Assert.Equal($"{{\"n\":{i}}}", message.Message);
            Assert.Equal("[001] (batch-01) 127.0.0.1->syscheck", message.Location);
        }

        Assert.Equal(Enumerable.Range(1, Count).Select(i => (ulong)i), _handler.Sequences);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Connect_BatchWithAMalformedEvent_TheOthersArriveAndTheBadOneIsLogged()
    {
        var credentials = await EnrollAsync("batch-02");
        using var handler = credentials.CreateHandler();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://{credentials.Manager}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        using var call = new AgentChannel.AgentChannelClient(channel).Connect();
        await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello() });
        var batch = new EventBatch();
        batch.Events.Add(new AgentEvent { Sequence = 1, Queue = "8", Location = "syscheck", Message = "first" });
        batch.Events.Add(new AgentEvent { Sequence = 2, Queue = "88", Location = "syscheck", Message = "malformed" });
        batch.Events.Add(new AgentEvent { Sequence = 3, Queue = "1", Location = "/var/log/x", Message = "third" });
        await call.RequestStream.WriteAsync(new AgentMessage { Events = batch });

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await _handler.Events.Reader.ReadAsync(stop.Token);
        var third = await _handler.Events.Reader.ReadAsync(stop.Token);
        Assert.Equal(("first", "[001] (batch-02) 127.0.0.1->syscheck"), (first.Message.Message, first.Message.Location));
        Assert.Equal(("third", "[001] (batch-02) 127.0.0.1->/var/log/x"), (third.Message.Message, third.Message.Location));
        await _log.AssertLoggedAsync("Dropped a malformed event from agent 001 (queue '88')");
        Assert.Equal([1UL, 3UL], _handler.Sequences);
        await call.RequestStream.CompleteAsync();
    }

    // Issue 13, defect 2: a second session with agent 001's certificate, once closed, marked 001 disconnected while
    // the real agent was still streaming, and every active response for 001 was dropped from then on.
    [Fact]
    public async Task Connect_SecondSessionWithTheSameCertificate_ReplacesTheOldAndItsCloseLeavesTheAgentReachable()
    {
        var credentials = await EnrollAsync("web-01");
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        var received = System.Threading.Channels.Channel.CreateUnbounded<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var connection = new AgentConnection(
            credentials, queue, async (response, token) => await received.Writer.WriteAsync(response.Name, token), new AgentConnectionOptions { MinBackoff = TimeSpan.FromMilliseconds(100) }, NullLogger.Instance, TimeProvider.System);
        var running = connection.RunAsync(stop.Token);
        var live = await WaitForSessionAsync(credentials.Id, null, stop.Token);

        // The same certificate again (a copy of the agent's key): the new session replaces the old one, whose stream ends.
        using (var handler = credentials.CreateHandler())
        using (var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://{credentials.Manager}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false }))
        using (var call = new AgentChannel.AgentChannelClient(channel).Connect(cancellationToken: stop.Token))
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello() });
            Assert.True(await call.ResponseStream.MoveNext(stop.Token));
            await _log.AssertLoggedAsync("Agent 001 (web-01) opened a new session from 127.0.0.1; closing its older session from 127.0.0.1");
            await call.RequestStream.CompleteAsync();
        }

        // The real agent comes back (its stream was ended, so it reconnects) and is the live session: reachable.
        var again = await WaitForSessionAsync(credentials.Id, live, stop.Token);
        await Task.Delay(500, stop.Token); // the second session's close has been handled by now
        Assert.Same(again, _transport!.Sessions.Find(credentials.Id));
        Assert.Equal(AgentStatus.Active, _registry!.Find(credentials.Id)!.Status);
        Assert.True(again.AcknowledgesResponses);
        Assert.True(again.TrySendActiveResponse("remove-threat", "{}", 7));
        Assert.Equal("remove-threat", await received.Reader.ReadAsync(stop.Token));
        await stop.CancelAsync();
        await running;
    }

    private async Task<AgentSession> WaitForSessionAsync(string id, AgentSession? other, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_transport!.Sessions.Find(id) is { } session && session != other && session.AcknowledgesResponses)
            {
                return session;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    [Fact]
    public async Task Connect_CertificateFromAnotherCa_IsRefused()
    {
        using var other = CertificateAuthority.LoadOrCreate(_temp.Combine("other-ca"), TimeProvider.System);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        _registry!.TryAdd("impostor", null, null, _ => "00");
        using var signed = other.SignAgent(csr, "001");
        using var withKey = signed.CopyWithPrivateKey(key);
        var certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var credentials = new AgentCredentials("001", "impostor", $"127.0.0.1:{_agentPort}", certificate, _authority!.Certificate);

        await AssertRefusedAsync(credentials);
        await _log.AssertLoggedAsync("Refused agent connection from (TLS handshake): client certificate CN=001 is not issued by this manager's CA");
    }

    [Fact]
    public async Task Connect_ImpostorManagerOnTheSameAddress_AgentRefusesItsCertificateAndTakesNoCommand()
    {
        var credentials = await EnrollAsync("web-01");
        await _transport!.DisposeAsync();

        // Another manager (its own CA) where the agent's manager was: it would send an active response at once.
        using var impostorCa = CertificateAuthority.LoadOrCreate(_temp.Combine("impostor", "ca"), TimeProvider.System);
        using var impostorRegistry = new AgentRegistry(_temp.Combine("impostor", "agents.db"));
        var impostorHandler = new RecordingHandler { ActiveResponse = ("!evil.sh", "{}") };
        _transport = await ManagerTransport.StartAsync(
            new ManagerTransportOptions { AgentPort = _agentPort, EnrollmentPort = _enrollmentPort, DataDirectory = _temp.Combine("impostor"), Password = Password },
            impostorCa, impostorRegistry, impostorHandler, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);

        var agentLog = new RecordingLoggerFactory();
        var commands = 0;
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        queue.Enqueue(new EventMessage(EventMessage.SyscheckQueue, "syscheck", "{}"));
        using var stop = new CancellationTokenSource();
        var connection = new AgentConnection(
            credentials, queue, (_, _) => Task.FromResult(Interlocked.Increment(ref commands)), new AgentConnectionOptions(), agentLog.CreateLogger("Vigil.Agent"), TimeProvider.System);
        var running = connection.RunAsync(stop.Token);

        await agentLog.AssertLoggedAsync($"Refused the manager at 127.0.0.1:{_agentPort}: its certificate CN=");
        await agentLog.AssertLoggedAsync("is not issued by the pinned manager CA");
        await stop.CancelAsync();
        await running;
        Assert.Equal(0, impostorHandler.Connections);
        Assert.Equal(0, Volatile.Read(ref commands));
        Assert.Equal(1, queue.Count);
        Assert.DoesNotContain(agentLog.Lines, l => l.Contains("Connected to the manager", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connect_NoClientCertificate_IsRefused()
    {
        var enrolled = await EnrollAsync("web-01");
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://127.0.0.1:{_agentPort}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });
        using var call = new AgentChannel.AgentChannelClient(channel).Connect();
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello() });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(0, _handler.Connections);

        // The enrollment port takes no client certificate, so the channel is refused there too.
        using var enrollChannel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://127.0.0.1:{_enrollmentPort}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        using var second = new AgentChannel.AgentChannelClient(enrollChannel).Connect();
        var refused = await Assert.ThrowsAsync<RpcException>(() => second.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.NotNull(enrolled);
        await _log.AssertLoggedAsync("Refused agent connection from 127.0.0.1: no client certificate");
    }

    [Fact]
    public async Task Connect_RemovedAgent_IsRefused()
    {
        var credentials = await EnrollAsync("web-01");
        Assert.True(_registry!.Remove(credentials.Id));
        await AssertRefusedAsync(credentials);
        await _log.AssertLoggedAsync($"Refused agent connection from 127.0.0.1: agent {credentials.Id} was removed");
    }

    [Fact]
    public async Task Enroll_WrongPassword_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            AgentCredentials.EnrollAsync($"127.0.0.1:{_enrollmentPort}", $"127.0.0.1:{_agentPort}", "web-01", "guess", _temp.Combine("agent"), null, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Empty(_registry!.List());
        await _log.AssertLoggedAsync("Refused enrollment from 127.0.0.1");
    }

    [Fact]
    public async Task Connect_SameVersion_RegistryRecordsTheAgentsVersion()
    {
        var credentials = await EnrollAsync("web-01");
        Assert.Equal(Core.VigilVersion.Current, _registry!.Find(credentials.Id)!.Version);
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        queue.Enqueue(new EventMessage(EventMessage.SyscheckQueue, "syscheck", "{}"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), NullLogger.Instance, TimeProvider.System) { Version = "0.0.9" };
        var running = connection.RunAsync(stop.Token);
        await _handler.Events.Reader.ReadAsync(stop.Token);
        Assert.Equal("0.0.9", _registry.Find(credentials.Id)!.Version);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Enroll_AgentNewerThanTheManager_IsRefusedSayingWhy()
    {
        await RestartManagerAsync("0.0.1");
        var refused = await Assert.ThrowsAsync<RpcException>(() => EnrollAsync("web-01"));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal($"agent version {Core.VigilVersion.Current} is newer than the manager's 0.0.1: upgrade the manager first (a manager serves agents of its version or older)", refused.Status.Detail);
        Assert.Empty(_registry!.List());
    }

    [Fact]
    public async Task Connect_AgentNewerThanTheManager_BothSidesLogWhyAndNothingIsServed()
    {
        var credentials = await EnrollAsync("web-01");
        await RestartManagerAsync("0.0.1");
        var agentLog = new RecordingLoggerFactory();
        using var queue = new DurableEventQueue(_temp.Combine("agent", "queue.db"));
        queue.Enqueue(new EventMessage(EventMessage.SyscheckQueue, "syscheck", "{}"));
        using var stop = new CancellationTokenSource();
        var connection = new AgentConnection(credentials, queue, (_, _) => Task.CompletedTask, new AgentConnectionOptions(), agentLog.CreateLogger("Vigil.Agent"), TimeProvider.System) { Version = "0.2.0" };
        var running = connection.RunAsync(stop.Token);

        const string Why = "agent version 0.2.0 is newer than the manager's 0.0.1: upgrade the manager first";
        await agentLog.AssertLoggedAsync($"refused by manager 127.0.0.1:{_agentPort}: {Why}");
        await _log.AssertLoggedAsync($"Refused agent {credentials.Id} (web-01): {Why}");
        await stop.CancelAsync();
        await running;
        Assert.Equal(0, _handler.Connections);
        Assert.Equal(1, queue.Count);
        var record = _registry!.Find(credentials.Id)!;
        Assert.Equal("0.2.0", record.Version);
        Assert.NotEqual(AgentStatus.Active, record.Status);
    }

    // The same CA and registry behind a manager of another version.
    private async Task RestartManagerAsync(string version)
    {
        await _transport!.DisposeAsync();
        _transport = await ManagerTransport.StartAsync(
            new ManagerTransportOptions { AgentPort = _agentPort, EnrollmentPort = _enrollmentPort, DataDirectory = _temp.Combine("manager"), Password = Password, Version = version },
            _authority!, _registry!, _handler, _log, TimeProvider.System, CancellationToken.None);
    }

    private async Task<AgentCredentials> EnrollAsync(string name)
    {
        var data = _temp.Combine("agent-" + name);
        var (id, _) = await AgentCredentials.EnrollAsync($"127.0.0.1:{_enrollmentPort}", $"127.0.0.1:{_agentPort}", name, Password, data, _authority!.Certificate, CancellationToken.None);
        var credentials = AgentCredentials.TryLoad(data)!;
        Assert.Equal(id, credentials.Id);
        return credentials;
    }

    private async Task AssertRefusedAsync(AgentCredentials credentials)
    {
        using var handler = credentials.CreateHandler();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://{credentials.Manager}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        using var call = new AgentChannel.AgentChannelClient(channel).Connect();
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello() });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(0, _handler.Connections);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await _transport!.DisposeAsync();
        _registry!.Dispose();
        _authority!.Dispose();
        _temp.Dispose();
    }

    private sealed class RecordingHandler : IAgentEventHandler
    {
        private int _connections;

        public System.Threading.Channels.Channel<(string Agent, EventMessage Message)> Events { get; } =
            System.Threading.Channels.Channel.CreateUnbounded<(string, EventMessage)>();

        public int Connections => Volatile.Read(ref _connections);

        /// <summary>The sequences of the events handled, in the order they were handled.</summary>
        public IReadOnlyList<ulong> Sequences
        {
            get
            {
                lock (_sequences)
                {
                    return [.. _sequences];
                }
            }
        }

        private readonly List<ulong> _sequences = [];

        /// <summary>An active response sent to every agent as soon as it connects.</summary>
        public (string Name, string Json)? ActiveResponse { get; init; }

        public ValueTask<ulong> OnConnectedAsync(AgentSession session, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _connections);
            if (ActiveResponse is { } command)
            {
                session.TrySendActiveResponse(command.Name, command.Json);
            }

            return ValueTask.FromResult(0UL);
        }

        public ValueTask OnEventAsync(AgentSession session, ulong sequence, EventMessage message, CancellationToken cancellationToken)
        {
            lock (_sequences)
            {
                _sequences.Add(sequence);
            }

            session.TryAcknowledge(sequence);
            return Events.Writer.WriteAsync((session.Id, message), cancellationToken);
        }

        public ValueTask OnDisconnectedAsync(AgentSession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
