namespace Vigil.Core;

/// <summary>The EICAR anti-malware test file, assembled at run time so that no source file contains it whole.</summary>
public static class Eicar
{
    /// <summary>The 68 ASCII bytes of the EICAR test file, with no trailing newline.</summary>
    public static byte[] Bytes => System.Text.Encoding.ASCII.GetBytes(
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}" + "$EICAR-STANDARD-ANTIVIRUS" + "-TEST-FILE!$H+H*");

    /// <summary>MD5 of the test file.</summary>
    public const string Md5 = "44d88612fea8a8f36de82e1278abb02f";

    /// <summary>SHA-1 of the test file.</summary>
    public const string Sha1 = "3395856ce81f2b7382dee72602f798b642f14140";

    /// <summary>SHA-256 of the test file.</summary>
    public const string Sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
}
