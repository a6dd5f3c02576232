using System.Security.Cryptography;
using System.Text;
using Vigil.Core;
using Vigil.Intel.Engines;

namespace Vigil.Intel.ClamAv;

/// <summary>clamd's state as the last health check saw it.</summary>
internal enum ClamAvHealth
{
    Up,
    Down,

    /// <summary>clamd answers, but the database directory Vigil knows of (from clamd.conf) holds no signatures.</summary>
    NoDatabase,
}

/// <summary>
/// The ClamAV engine: a clamd the site runs, reached as its clamd.conf (or an explicit socket or address) says.
/// Where clamd is local (unix socket) it reads the file through the descriptor Vigil opened (FILDES); over TCP the
/// file is streamed (INSTREAM), never beyond clamd's StreamMaxLength. Its version is clamd's VERSION (engine and
/// official database) plus, when the database directory is known, a digest of its files, so unofficial signature
/// files (.hdb, .ndb…) that change also make a new version. Vigil never downloads signatures.
/// </summary>
internal sealed class ClamAvEngine : IFileEngine, IDisposable
{
    private static readonly string[] s_signatureExtensions =
        [".cvd", ".cld", ".cud", ".hdb", ".hsb", ".hdu", ".hsu", ".mdb", ".msb", ".mdu", ".msu", ".ndb", ".ndu", ".ldb", ".ldu", ".cdb", ".yar", ".yara", ".pdb", ".gdb", ".wdb", ".cbc", ".crb"];

    private readonly ClamAvOptions _options;
    private readonly ClamdClient _client;
    private readonly string? _databaseDirectory;

    public ClamAvEngine(ClamAvOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        ClamdConf? conf = null;
        if (options.Socket is null && options.Tcp is null || options.ClamdConf is not null)
        {
            conf = ClamdConf.Load(options.ClamdConf ?? ClamAvOptions.DefaultConf);
        }

        ClamdEndpoint endpoint;
        if (options.Socket is { } socket)
        {
            endpoint = new ClamdEndpoint(socket, null, 0);
        }
        else if (options.Tcp is { } tcp)
        {
            endpoint = ParseTcp(tcp);
        }
        else if (conf!.LocalSocket is { } local)
        {
            endpoint = new ClamdEndpoint(local, null, 0);
        }
        else if (conf.TcpPort is { } port)
        {
            endpoint = new ClamdEndpoint(null, conf.TcpAddress ?? "127.0.0.1", port);
        }
        else
        {
            throw new VigilException($"{conf.Path}: clamd listens nowhere (neither LocalSocket nor TCPSocket is set)");
        }

        StreamMaxLength = options.StreamMaxLength ?? conf?.StreamMaxLength ?? ClamdConf.DefaultStreamMaxLength;
        _databaseDirectory = conf?.DatabaseDirectory;
        _client = new ClamdClient(endpoint, options.Timeout, conf?.MaxInFlight ?? ClamdClient.DefaultMaxInFlight);
    }

    public string Name => "clamav";

    public string? Version { get; private set; }

    /// <summary>
    /// FILDES requests kept in flight on the session (from clamd.conf's MaxThreads and MaxQueue); over TCP each scan
    /// is a connection of its own, as many at once.
    /// </summary>
    public int MaxConcurrentScans => _client.MaxInFlight;

    public ClamdEndpoint Endpoint => _client.Endpoint;

    /// <summary>The client (its session's in-flight counts, for status and tests).</summary>
    internal ClamdClient Client => _client;

    public long StreamMaxLength { get; }

    public ClamAvHealth Health { get; private set; } = ClamAvHealth.Down;

    /// <summary>Why clamd is down or has no database (null when up).</summary>
    public string? Problem { get; private set; }

    /// <summary>PING and VERSION; sets <see cref="Version"/>, <see cref="Health"/> and <see cref="Problem"/>.</summary>
    public async Task<ClamAvHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var pong = await _client.CommandAsync("PING", cancellationToken);
            if (pong != "PONG")
            {
                return SetHealth(ClamAvHealth.Down, $"{Endpoint} answered PING with '{Truncate(pong)}'");
            }

            var version = await _client.CommandAsync("VERSION", cancellationToken);
            if (!version.StartsWith("ClamAV ", StringComparison.Ordinal))
            {
                return SetHealth(ClamAvHealth.Down, $"{Endpoint} answered VERSION with '{Truncate(version)}'");
            }

            var (digest, hasSignatures) = Database();
            Version = digest is null ? version : $"{version} db:{digest}";
            return hasSignatures
                ? SetHealth(ClamAvHealth.Up, null)
                : SetHealth(ClamAvHealth.NoDatabase, $"{_databaseDirectory} holds no signature files (clamd cannot reload; run freshclam or add a signature file)");
        }
        catch (ClamdUnavailableException ex)
        {
            return SetHealth(ClamAvHealth.Down, ex.Message);
        }
    }

    public async Task<EngineResult> ScanAsync(FileStream file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var length = file.Length;
        if (length > _options.MaxFileSize)
        {
            return Result(EngineOutcome.Skipped, detail: $"{length} bytes is over the ClamAV size limit of {_options.MaxFileSize} bytes");
        }

        if (!Endpoint.IsUnix && length > StreamMaxLength)
        {
            return Result(EngineOutcome.Skipped, detail: $"{length} bytes is over clamd's StreamMaxLength of {StreamMaxLength} bytes");
        }

        if (Version is null && await CheckAsync(cancellationToken) == ClamAvHealth.Down)
        {
            return Result(EngineOutcome.Unavailable, detail: Problem);
        }

        ClamdReply reply;
        try
        {
            // The descriptor's offset is shared with clamd, but clamd reads with pread from the start (libclamav's
            // fmap), and INSTREAM reads with pread here: no seek is needed.
            reply = Endpoint.IsUnix
                ? await _client.ScanDescriptorAsync(file.SafeFileHandle, cancellationToken)
                : await _client.ScanStreamAsync(file.SafeFileHandle, length, cancellationToken);
        }
        catch (ClamdUnavailableException ex)
        {
            SetHealth(ClamAvHealth.Down, ex.Message);
            return Result(EngineOutcome.Unavailable, detail: ex.Message);
        }

        return reply switch
        {
            ClamdReply.Clean => Result(EngineOutcome.Clean),
            ClamdReply.Found found => Result(EngineOutcome.Detected, found.Signature),
            ClamdReply.Error error => Result(EngineOutcome.Failed, detail: $"{Endpoint}: {error.Message}"),
            ClamdReply.Malformed malformed => Result(EngineOutcome.Failed, detail: $"{Endpoint} sent a reply Vigil does not understand ({malformed.Reason})"),
            _ => Result(EngineOutcome.Failed, detail: "unexpected reply"),
        };
    }

    /// <summary>Closes the kept clamd sessions.</summary>
    public void Dispose() => _client.Dispose();

    private EngineResult Result(EngineOutcome outcome, string? name = null, string? detail = null) => new(Name, Version, outcome, name, null, detail);

    private ClamAvHealth SetHealth(ClamAvHealth health, string? problem)
    {
        Health = health;
        Problem = problem;
        return health;
    }

    // A digest of the database directory's file names, sizes and times; and whether any is a signature file.
    private (string? Digest, bool HasSignatures) Database()
    {
        if (_databaseDirectory is null || !Directory.Exists(_databaseDirectory))
        {
            return (null, true);
        }

        var files = new DirectoryInfo(_databaseDirectory).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        foreach (var f in files)
        {
            text.Append(f.Name).Append('\0').Append(f.Length).Append('\0').Append(f.LastWriteTimeUtc.Ticks).Append('\n');
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
        return (digest, files.Any(f => s_signatureExtensions.Contains(f.Extension, StringComparer.OrdinalIgnoreCase)));
    }

    /// <summary>A <c>host:port</c> (IPv6 in brackets); throws <see cref="VigilException"/> for anything else.</summary>
    internal static ClamdEndpoint ParseTcp(string tcp)
    {
        var colon = tcp.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(tcp[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new VigilException($"tcp must be host:port, got '{tcp}'");
        }

        return new ClamdEndpoint(null, tcp[..colon].Trim('[', ']'), port);
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
