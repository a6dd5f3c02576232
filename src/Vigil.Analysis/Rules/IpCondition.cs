using System.Net;

namespace Vigil.Analysis.Rules;

/// <summary>A <c>&lt;srcip&gt;</c> / <c>&lt;dstip&gt;</c> condition: addresses or CIDR networks, optionally negated with <c>!</c>.</summary>
internal sealed class IpCondition
{
    private readonly (IPAddress Network, int Prefix)[] _networks;

    private IpCondition((IPAddress, int)[] networks, bool isNegated)
    {
        _networks = networks;
        IsNegated = isNegated;
    }

    public bool IsNegated { get; }

    public static bool TryParse(string text, out IpCondition? condition, out string? error)
    {
        condition = null;
        error = null;
        var negated = text.StartsWith('!');
        var list = new List<(IPAddress, int)>();
        foreach (var part in (negated ? text[1..] : text).Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            if (IPNetwork.TryParse(part, out var network))
            {
                list.Add((network.BaseAddress, network.PrefixLength));
            }
            else if (IPAddress.TryParse(part, out var address))
            {
                list.Add((address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                error = $"'{part}' is not an IP address or CIDR network";
                return false;
            }
        }

        condition = new IpCondition([.. list], negated);
        return true;
    }

    public bool IsMatch(string? value)
    {
        var hit = false;
        if (value is not null && IPAddress.TryParse(value, out var address))
        {
            foreach (var (network, prefix) in _networks)
            {
                if (new IPNetwork(network, prefix).Contains(address))
                {
                    hit = true;
                    break;
                }
            }
        }

        return hit != IsNegated;
    }
}
