namespace Vigil.Intel.ClamAv;

/// <summary>The ClamAV engine's settings (the <c>custom-vigil-clamav</c> integration's options; see docs/engines.md).</summary>
internal sealed record ClamAvOptions
{
    /// <summary>Debian's clamd.conf; read for LocalSocket, TCPSocket/TCPAddr, StreamMaxLength and DatabaseDirectory.</summary>
    public const string DefaultConf = "/etc/clamav/clamd.conf";

    /// <summary>The clamd.conf to read where clamd listens (used when neither <see cref="Socket"/> nor <see cref="Tcp"/> is set).</summary>
    public string? ClamdConf { get; init; }

    /// <summary>clamd's unix socket: files are passed by descriptor (FILDES).</summary>
    public string? Socket { get; init; }

    /// <summary>clamd's TCP address, host:port: files are streamed (INSTREAM).</summary>
    public string? Tcp { get; init; }

    /// <summary>The stream limit when no clamd.conf gives it (clamd's default, 25 MiB).</summary>
    public long? StreamMaxLength { get; init; }

    /// <summary>Files larger than this are not sent, and an alert says so (200703).</summary>
    public long MaxFileSize { get; init; } = 100L * 1024 * 1024;

    /// <summary>One command: connect, send, reply.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
