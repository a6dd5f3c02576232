using System.Globalization;

namespace Vigil.Core.Configuration;

/// <summary>The agent's <c>&lt;client&gt;</c> block: the managers it connects to, in order of preference.</summary>
public sealed record ClientOptions
{
    /// <summary>The <c>&lt;server&gt;</c> blocks, in file order.</summary>
    public IReadOnlyList<ClientServer> Servers { get; init; } = [];

    /// <summary>The servers as <c>vigil agent --manager</c> takes them (<c>H1:P1,H2:P2</c>); empty when there are none.</summary>
    public string ManagerList => string.Join(",", Servers.Select(s => s.Endpoint));
}

/// <summary>One <c>&lt;server&gt;</c> of <c>&lt;client&gt;</c>: a manager's address and agent port.</summary>
public sealed record ClientServer(string Address, int Port, SourceLocation Source)
{
    /// <summary>Wazuh's default agent port, used when <c>&lt;port&gt;</c> is absent.</summary>
    public const int DefaultPort = 1514;

    /// <summary><c>HOST:PORT</c>, with an IPv6 address in brackets.</summary>
    public string Endpoint => Address.Contains(':', StringComparison.Ordinal) && !Address.StartsWith('[')
        ? string.Create(CultureInfo.InvariantCulture, $"[{Address}]:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port}");
}
