using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vigil.Analysis.Decoding;

/// <summary>
/// The FIM decoder (spec §2.9): a queue-8 JSON event becomes <c>syscheck_new_entry</c>, <c>syscheck_integrity_changed</c>
/// or <c>syscheck_deleted</c>, with Wazuh's dynamic field names and <c>full_log</c> text. <c>scan_start</c> and
/// <c>scan_end</c> messages are claimed and produce no alert.
/// </summary>
internal sealed class FimDecoder : IDecoder
{
    public const string Added = "syscheck_new_entry";
    public const string Modified = "syscheck_integrity_changed";
    public const string Deleted = "syscheck_deleted";
    public const string Control = "syscheck_control";

    private const int MaxPathInFullLog = 756;

    private static readonly DecoderInfo s_added = new(Added, null, RuleCategories.Ossec);
    private static readonly DecoderInfo s_modified = new(Modified, null, RuleCategories.Ossec);
    private static readonly DecoderInfo s_deleted = new(Deleted, null, RuleCategories.Ossec);
    private static readonly DecoderInfo s_control = new(Control, null, RuleCategories.Ossec);

    public IReadOnlyList<string> Names { get; } = [Added, Modified, Deleted];

    public bool TryDecode(AnalysisEvent analysisEvent)
    {
        if (analysisEvent.Queue != Core.Events.EventMessage.SyscheckQueue || !analysisEvent.Log.StartsWith('{'))
        {
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(analysisEvent.Log);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            if (type.ValueEquals("event") && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                return DecodeEvent(analysisEvent, data);
            }

            // scan_start, scan_end and other control messages: stored by Wazuh in wazuh-db, never alerted.
            analysisEvent.Decoder = s_control;
            analysisEvent.IsSuppressed = true;
            return true;
        }
    }

    private static bool DecodeEvent(AnalysisEvent analysisEvent, JsonElement data)
    {
        var path = GetString(data, "path");
        var eventType = GetString(data, "type");
        if (path is null || eventType is null)
        {
            return false;
        }

        analysisEvent.Decoder = eventType switch
        {
            "added" => s_added,
            "modified" => s_modified,
            "deleted" => s_deleted,
            _ => null,
        };
        if (analysisEvent.Decoder is null)
        {
            return false;
        }

        var after = data.TryGetProperty("attributes", out var attributes) ? ReadAttributes(attributes) : new FimAttributes();
        var before = data.TryGetProperty("old_attributes", out var oldAttributes) ? ReadAttributes(oldAttributes) : null;
        var fim = new FimEventData
        {
            Path = path,
            Mode = GetString(data, "mode") ?? "scheduled",
            EventType = eventType,
            HardLinks = GetStringArray(data, "hard_links"),
            SymbolicPath = GetString(data, "symbolic_path"),
            After = after,
            Before = before,
            ChangedAttributes = GetStringArray(data, "changed_attributes"),
            Diff = GetString(data, "content_changes"),
            Tags = GetString(data, "tags") is { Length: > 0 } tags ? tags.Split(',') : null,
            Audit = data.TryGetProperty("audit", out var audit) && audit.ValueKind == JsonValueKind.Object ? audit.Clone() : null,
        };
        analysisEvent.Syscheck = fim;
        AddFields(analysisEvent.Fields, fim);
        analysisEvent.Log = analysisEvent.FullLog = BuildFullLog(fim);
        return true;
    }

    private static FimAttributes ReadAttributes(JsonElement a) => new()
    {
        Size = GetScalar(a, "size"),
        Perm = GetScalar(a, "perm"),
        Uid = GetScalar(a, "uid"),
        Gid = GetScalar(a, "gid"),
        Md5 = GetString(a, "hash_md5"),
        Sha1 = GetString(a, "hash_sha1"),
        Sha256 = GetString(a, "hash_sha256"),
        UserName = GetString(a, "user_name"),
        GroupName = GetString(a, "group_name"),
        Mtime = a.TryGetProperty("mtime", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out var mt) ? mt : null,
        Inode = GetScalar(a, "inode"),
    };

    /// <summary>The dynamic field names of Wazuh's <c>sdb_init</c>: <c>file</c>, <c>size</c>, <c>size_before</c>, …</summary>
    private static void AddFields(EventFields fields, FimEventData fim)
    {
        fields.AddDynamic("file", fim.Path);
        if (fim.HardLinks is { Count: > 0 })
        {
            fields.AddDynamic("hard_links", string.Join(",", fim.HardLinks));
        }

        fields.AddDynamic("mode", fim.Mode);
        var a = fim.After;
        var b = fim.Before;
        Pair("size", "size_before", a.Size, b?.Size);
        Pair("perm", "perm_before", a.Perm, b?.Perm);
        Pair("uid", "uid_before", a.Uid, b?.Uid);
        Pair("gid", "gid_before", a.Gid, b?.Gid);
        Pair("md5", "md5_before", a.Md5, b?.Md5);
        Pair("sha1", "sha1_before", a.Sha1, b?.Sha1);
        Pair("sha256", "sha256_before", a.Sha256, b?.Sha256);
        Pair("uname", "uname_before", a.UserName, b?.UserName);
        Pair("gname", "gname_before", a.GroupName, b?.GroupName);
        Pair("mtime", "mtime_before", a.Mtime?.ToString(CultureInfo.InvariantCulture), b?.Mtime?.ToString(CultureInfo.InvariantCulture));
        Pair("inode", "inode_before", a.Inode, b?.Inode);
        if (fim.Diff is not null)
        {
            fields.AddDynamic("changed_content", fim.Diff);
        }

        if (fim.ChangedAttributes is { Count: > 0 })
        {
            fields.AddDynamic("changed_fields", string.Join(",", fim.ChangedAttributes));
        }

        if (fim.Tags is { Count: > 0 })
        {
            fields.AddDynamic("tag", string.Join(",", fim.Tags));
        }

        if (fim.SymbolicPath is not null)
        {
            fields.AddDynamic("symbolic_path", fim.SymbolicPath);
        }

        if (fim.Audit is { } audit)
        {
            foreach (var (name, jsonPath) in s_auditFields)
            {
                if (TryGetPath(audit, jsonPath, out var value))
                {
                    fields.AddDynamic(name, value);
                }
            }
        }

        fields.AddDynamic("entry_type", "file");
        fields.AddDynamic("event_type", fim.EventType);

        void Pair(string name, string beforeName, string? after, string? before)
        {
            if (after is not null)
            {
                fields.AddDynamic(name, after);
            }

            if (before is not null)
            {
                fields.AddDynamic(beforeName, before);
            }
        }
    }

    private static readonly (string Name, string JsonPath)[] s_auditFields =
    [
        ("user_id", "user_id"), ("user_name", "user_name"), ("group_id", "group_id"), ("group_name", "group_name"),
        ("process_name", "process_name"), ("parent_name", "parent_name"), ("cwd", "cwd"), ("parent_cwd", "parent_cwd"),
        ("audit_uid", "audit_uid"), ("audit_name", "audit_name"), ("effective_uid", "effective_uid"),
        ("effective_name", "effective_name"), ("ppid", "ppid"), ("process_id", "process_id"),
    ];

    /// <summary>Wazuh's <c>full_log</c> for a FIM event (<c>fim_generate_alert</c>).</summary>
    internal static string BuildFullLog(FimEventData fim)
    {
        var sb = new StringBuilder(128);
        sb.Append("File '").Append(ShortenPath(fim.Path)).Append("' ").Append(fim.EventType).Append('\n');
        if (fim.HardLinks is { Count: > 0 })
        {
            sb.Append("Hard links: ").Append(string.Join(",", fim.HardLinks)).Append('\n');
        }

        sb.Append("Mode: ").Append(fim.Mode).Append('\n');
        if (fim.EventType == "modified" && fim.ChangedAttributes is { Count: > 0 })
        {
            sb.Append("Changed attributes: ").Append(string.Join(",", fim.ChangedAttributes)).Append('\n');
        }

        if (fim.EventType == "modified" && fim.Before is { } b)
        {
            var a = fim.After;
            Changed("Size changed from '", "' to '", b.Size, a.Size);
            Changed("Permissions changed from '", "' to '", b.Perm, a.Perm);
            Changed("Ownership was '", "', now it is '", b.Uid, a.Uid);
            Changed("User name was '", "', now it is '", b.UserName, a.UserName);
            Changed("Group ownership was '", "', now it is '", b.Gid, a.Gid);
            Changed("Group name was '", "', now it is '", b.GroupName, a.GroupName);
            Changed("Old modification time was: '", "', now it is '",
                b.Mtime?.ToString(CultureInfo.InvariantCulture), a.Mtime?.ToString(CultureInfo.InvariantCulture));
            Changed("Old inode was: '", "', now it is '", b.Inode, a.Inode);
            Changed("Old md5sum was: '", "'\nNew md5sum is : '", b.Md5, a.Md5);
            Changed("Old sha1sum was: '", "'\nNew sha1sum is : '", b.Sha1, a.Sha1);
            Changed("Old sha256sum was: '", "'\nNew sha256sum is : '", b.Sha256, a.Sha256);
        }

        return sb.ToString();

        void Changed(string lead, string middle, string? before, string? after)
        {
            if (before is not null && after is not null && before != after)
            {
                sb.Append(lead).Append(before).Append(middle).Append(after).Append("'\n");
            }
        }
    }

    private static string ShortenPath(string path) =>
        path.Length > MaxPathInFullLog ? string.Concat(path.AsSpan(0, 719), " [...] ", path.AsSpan(path.Length - 30)) : path;

    private static string? GetString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? GetScalar(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? JsonFieldFlattener.ToFieldValue(v)
            : null;

    private static List<string>? GetStringArray(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var list = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
        {
            list.Add(JsonFieldFlattener.ToFieldValue(item));
        }

        return list;
    }

    private static bool TryGetPath(JsonElement e, string name, out string value)
    {
        value = "";
        if (e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            value = JsonFieldFlattener.ToFieldValue(v);
            return true;
        }

        return false;
    }
}
