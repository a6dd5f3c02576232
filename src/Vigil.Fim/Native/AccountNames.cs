using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Vigil.Core.Native;

namespace Vigil.Fim.Native;

/// <summary>uid/gid → name through NSS (getpwuid_r/getgrgid_r), cached; an unknown id gets an empty name as in Wazuh.</summary>
internal static unsafe class AccountNames
{
    private static readonly ConcurrentDictionary<uint, string> s_users = new();
    private static readonly ConcurrentDictionary<uint, string> s_groups = new();

    public static string User(uint uid) => s_users.GetOrAdd(uid, static id => Lookup(id, isGroup: false));

    public static string Group(uint gid) => s_groups.GetOrAdd(gid, static id => Lookup(id, isGroup: true));

    private static string Lookup(uint id, bool isGroup)
    {
        // struct passwd and struct group both start with a char* name; 128 bytes covers either struct.
        var record = stackalloc byte[128];
        for (var size = 1024; size <= 1 << 20; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                byte* result = null;
                var rc = isGroup
                    ? FimLibC.getgrgid_r(id, record, b, (nuint)size, &result)
                    : FimLibC.getpwuid_r(id, record, b, (nuint)size, &result);
                if (rc == LibC.ERANGE)
                {
                    continue; // a bigger buffer is needed
                }

                if (rc != 0 || result == null)
                {
                    return "";
                }

                return Marshal.PtrToStringUTF8(*(nint*)result) ?? "";
            }
        }

        return "";
    }
}
