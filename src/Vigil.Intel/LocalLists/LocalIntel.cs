using Vigil.Core.Events;
using Vigil.Core.Hashing;
using Vigil.Intel.Selection;

namespace Vigil.Intel.LocalLists;

/// <summary>
/// Local intelligence that needs no API key: the built-in list and the operator's hash-list files. A hit becomes
/// a <c>vigil-intel</c> message that rule 200100 (ruleset/rules/0495-vigil_local_intel_rules.xml) raises.
/// </summary>
internal sealed class LocalIntel(IReadOnlyList<HashList> lists)
{
    public const string Integration = "vigil-intel";

    public IReadOnlyList<HashList> Lists => lists;

    /// <summary>The digests a scan computes: SHA-256 always (the verdict cache and VirusTotal key on it), MD5 and SHA-1 only where a list is written in them.</summary>
    public HashKinds Kinds { get; } = KindsOf(lists);

    public static LocalIntel FromOptions(IntelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lists = new List<HashList>();
        if (options.BuiltinList)
        {
            lists.Add(HashList.Builtin);
        }

        lists.AddRange(options.HashLists.Select(HashList.Load));
        return new LocalIntel(lists);
    }

    /// <summary>The message for a hit, or null when no list knows the file (SHA-256 first, then SHA-1, then MD5).</summary>
    public EventMessage? TryMatch(FileAlert file)
    {
        foreach (var list in lists)
        {
            if (list.TryMatch(file.Sha256, out var threat))
            {
                return Message(file, list.Name, "sha256", file.Sha256!.ToLowerInvariant(), threat);
            }

            if (list.TryMatch(file.Sha1, out threat))
            {
                return Message(file, list.Name, "sha1", file.Sha1!.ToLowerInvariant(), threat);
            }

            if (list.TryMatch(file.Md5, out threat))
            {
                return Message(file, list.Name, "md5", file.Md5!.ToLowerInvariant(), threat);
            }
        }

        return null;
    }

    private static PyJson Source(FileAlert file)
    {
        var source = new PyJson()
            .Add("alert_id", file.AlertId)
            .Add("file", file.Path)
            .Add("md5", file.Md5)
            .Add("sha1", file.Sha1)
            .Add("sha256", file.Sha256);
        if (file.Size is { } size)
        {
            source.Add("size", size); // so the removal can refuse a file of another size before reading it
        }

        return source;
    }

    private static EventMessage Message(FileAlert file, string list, string kind, string hash, string? threat)
    {
        var body = new PyJson()
            .Add("list", list)
            .Add("matched", kind)
            .Add("hash", hash);
        if (threat is not null)
        {
            body.Add("threat", threat);
        }

        body.Add("source", Source(file));

        // The file again under virustotal.source, where the guide's rule 100092 ("removed threat located at
        // $(parameters.alert.data.virustotal.source.file)") and its remove-threat.sh look for it, so both name the
        // file whichever intelligence flagged it. "integration" stays vigil-intel: the 87100 rules do not match it.
        var json = new PyJson()
            .Add("vigil", body)
            .Add("virustotal", new PyJson().Add("source", Source(file)))
            .Add("integration", Integration)
            .ToString();
        return new EventMessage(EventMessage.LocalFileQueue, EventMessage.AgentLocation(file.Agent, Integration), json);
    }

    // A loop, not Enumerable.Aggregate: its generic code over an enum is compiled by the JIT at every start.
    private static HashKinds KindsOf(IReadOnlyList<HashList> lists)
    {
        var kinds = HashKinds.Sha256;
        foreach (var list in lists)
        {
            kinds |= list.Kinds;
        }

        return kinds;
    }
}
