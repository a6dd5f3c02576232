namespace Vigil.Analysis.Tests;

/// <summary>Event lines in Wazuh's queue form for the seed flow.</summary>
internal static class Events
{
    public static string Fim(string path, string type = "added", string mode = "realtime", string extra = "") =>
        $$$"""8:syscheck:{"type":"event","data":{"path":"{{{path}}}","version":2.0,"mode":"{{{mode}}}","type":"{{{type}}}","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,"hash_md5":"44d88612fea8a8f36de82e1278abb02f","hash_sha1":"3395856ce81f2b7382dee72602f798b642f14140","hash_sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}{{{extra}}}}}""";

    public static string Json(string json, string location = "test") => $"1:{location}:{json}";
}
