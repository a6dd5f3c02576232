using System.Security.Cryptography;
using System.Text;

namespace Vigil.Tests.Common.VirusTotal;

/// <summary>A file the emulator knows: its hashes and the verdicts of its engines.</summary>
public sealed record EmulatedFile
{
    /// <summary>Engine names, as VirusTotal reports them; the first <see cref="Malicious"/> flag the file.</summary>
    public static IReadOnlyList<string> Engines { get; } =
    [
        "Kaspersky", "ESET-NOD32", "Microsoft", "Sophos", "BitDefender", "Avast", "AVG", "McAfee", "Symantec",
        "TrendMicro", "Fortinet", "Panda", "DrWeb", "Malwarebytes", "ClamAV", "F-Secure", "GData", "Ikarus",
        "Emsisoft", "Cynet", "Zillya", "VIPRE", "Arcabit", "Antiy-AVL", "Rising", "Jiangmin", "Lionic", "MaxSecure",
        "Google", "Tencent", "Xcitium", "Gridinsoft", "Varist", "ALYac", "VBA32", "Zoner", "K7AntiVirus",
        "K7GW", "Baidu", "CMC", "NANO-Antivirus", "SUPERAntiSpyware", "Trapmine", "Webroot", "Yandex",
        "Bkav", "Cylance", "Elastic", "Paloalto", "SentinelOne", "CrowdStrike", "DeepInstinct", "Acronis",
        "AhnLab-V3", "Alibaba", "Avira", "BitDefenderTheta", "Cybereason", "Kingsoft", "MicroWorld-eScan",
        "QuickHeal", "Sangfor", "SecureAge", "TACHYON", "TrendMicro-HouseCall", "ViRobot", "Zoner2", "huorong",
    ];

    public required string Sha256 { get; init; }

    public required string Md5 { get; init; }

    public required string Sha1 { get; init; }

    public long Size { get; init; } = 68;

    public int Malicious { get; init; }

    public int Suspicious { get; init; }

    public int Undetected { get; init; }

    public int Harmless { get; init; }

    /// <summary>Engines without a verdict (type-unsupported); not part of Vigil's total.</summary>
    public int TypeUnsupported { get; init; }

    public long LastAnalysisDate { get; init; } = 1_700_000_000;

    public string? SuggestedThreatLabel { get; init; }

    public string? ThreatCategory { get; init; }

    /// <summary>A file whose content is <paramref name="content"/>, with its real hashes.</summary>
    public static EmulatedFile For(byte[] content, int malicious, int undetected, string? label = null, string? category = null) => new()
    {
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)),
        Md5 = Convert.ToHexStringLower(MD5.HashData(content)),
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(content)),
        Size = content.Length,
        Malicious = malicious,
        Undetected = undetected,
        TypeUnsupported = 3,
        SuggestedThreatLabel = label,
        ThreatCategory = category,
    };

    /// <summary>A synthetic file named by <paramref name="seed"/>: its hashes are those of the seed's UTF-8 bytes.</summary>
    public static EmulatedFile Synthetic(string seed, int malicious, int undetected = 60) =>
        For(Encoding.UTF8.GetBytes(seed), malicious, undetected, malicious > 0 ? "trojan.synthetic/test" : null, malicious > 0 ? "trojan" : null);
}
