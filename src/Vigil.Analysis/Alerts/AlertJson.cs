using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Analysis.Decoding;

namespace Vigil.Analysis.Alerts;

/// <summary>Writes an alert as one compact <c>alerts.json</c> document, keys and types as Wazuh (spec §6.1, §2.9).</summary>
internal static class AlertJson
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // Like cJSON: no HTML escaping of <, >, &, ' and non-ASCII letters kept as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly (string Prefix, string Key)[] s_compliance =
    [
        ("pci_dss_", "pci_dss"), ("cis_", "cis"), ("gdpr_", "gdpr"), ("gpg13_", "gpg13"), ("hipaa_", "hipaa"),
        ("nist_800_53_", "nist_800_53"), ("tsc_", "tsc"),
    ];

    public static string Serialize(Alert alert, AlertContext context)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            Write(writer, alert, context);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter w, Alert alert, AlertContext context)
    {
        var e = alert.Event;
        var rule = alert.Rule;
        w.WriteStartObject();
        w.WriteString("timestamp", FormatTimestamp(alert.Timestamp));
        WriteRule(w, alert, context.Mitre);

        w.WriteStartObject("agent");
        w.WriteString("id", e.AgentId);
        w.WriteString("name", e.Agent?.Name ?? context.ManagerName);
        if (e.Agent?.Ip is { } ip)
        {
            w.WriteString("ip", ip);
        }

        w.WriteEndObject();
        w.WriteStartObject("manager");
        w.WriteString("name", context.ManagerName);
        w.WriteEndObject();
        w.WriteString("id", alert.Id);
        if (context.ClusterName is not null)
        {
            w.WriteStartObject("cluster");
            w.WriteString("name", context.ClusterName);
            w.WriteString("node", context.ClusterNode);
            w.WriteEndObject();
        }

        if (alert.PreviousEvents is { Count: > 0 } previous)
        {
            w.WriteString("previous_output", string.Join("\n", previous.Select(p => p.FullLog)));
        }

        if (!rule.Options.HasFlag(Rules.RuleOptions.NoFullLog))
        {
            w.WriteString("full_log", e.FullLog);
        }

        if (e.Syscheck is { } fim)
        {
            WriteSyscheck(w, fim);
        }

        if (e.Decoder is { } decoder)
        {
            w.WriteStartObject("decoder");
            if (decoder.Parent is not null)
            {
                w.WriteString("parent", decoder.Parent);
            }

            w.WriteString("name", decoder.Name);
            w.WriteEndObject();
        }

        if (e.Syscheck is null)
        {
            WriteData(w, e.Fields);
        }

        w.WriteString("location", e.Location);
        w.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter w, Alert alert, Rules.MitreCatalog mitre)
    {
        var rule = alert.Rule;
        w.WriteStartObject("rule");
        if (rule.Level != 0)
        {
            w.WriteNumber("level", rule.Level);
        }

        w.WriteString("description", alert.Description);
        w.WriteString("id", rule.Id.ToString(CultureInfo.InvariantCulture));
        if (rule.MitreIds.Count > 0)
        {
            w.WriteStartObject("mitre");
            w.WriteStartArray("id");
            foreach (var id in rule.MitreIds)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
            var found = rule.MitreIds.Select(mitre.Find).ToList();
            w.WriteStartArray("tactic");
            foreach (var tactic in found.Where(f => f is not null).SelectMany(f => f!.Value.Tactics).Distinct())
            {
                w.WriteStringValue(tactic);
            }

            w.WriteEndArray();
            w.WriteStartArray("technique");
            foreach (var f in found.Where(f => f is not null))
            {
                w.WriteStringValue(f!.Value.Technique);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        if (rule.Cve.Count > 0)
        {
            w.WriteString("cve", string.Join(" ", rule.Cve));
        }

        if (rule.Info.Count > 0)
        {
            w.WriteString("info", string.Join(" ", rule.Info));
        }

        if (rule.Frequency is { } frequency)
        {
            w.WriteNumber("frequency", frequency);
        }

        if (!rule.Options.HasFlag(Rules.RuleOptions.NoCounter))
        {
            w.WriteNumber("firedtimes", alert.FiredTimes);
        }

        w.WriteBoolean("mail", alert.IsMail);
        w.WriteStartArray("groups");
        foreach (var group in rule.Groups)
        {
            if (!s_compliance.Any(c => group.StartsWith(c.Prefix, StringComparison.Ordinal)))
            {
                w.WriteStringValue(group);
            }
        }

        w.WriteEndArray();
        foreach (var (prefix, key) in s_compliance)
        {
            var started = false;
            foreach (var group in rule.Groups)
            {
                if (group.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (!started)
                    {
                        w.WriteStartArray(key);
                        started = true;
                    }

                    w.WriteStringValue(group[prefix.Length..]);
                }
            }

            if (started)
            {
                w.WriteEndArray();
            }
        }

        w.WriteEndObject();
    }

    private static void WriteSyscheck(Utf8JsonWriter w, FimEventData fim)
    {
        w.WriteStartObject("syscheck");
        w.WriteString("path", fim.Path);
        if (fim.HardLinks is { Count: > 0 })
        {
            w.WriteStartArray("hard_links");
            foreach (var link in fim.HardLinks)
            {
                w.WriteStringValue(link);
            }

            w.WriteEndArray();
        }

        w.WriteString("mode", fim.Mode);
        if (fim.SymbolicPath is not null)
        {
            w.WriteString("symbolic_path", fim.SymbolicPath);
        }

        var a = fim.After;
        var b = fim.Before;
        Pair("size", b?.Size, a.Size);
        Pair("perm", b?.Perm, a.Perm);
        Pair("uid", b?.Uid, a.Uid);
        Pair("gid", b?.Gid, a.Gid);
        Pair("md5", b?.Md5, a.Md5);
        Pair("sha1", b?.Sha1, a.Sha1);
        Pair("sha256", b?.Sha256, a.Sha256);
        Pair("uname", b?.UserName, a.UserName);
        Pair("gname", b?.GroupName, a.GroupName);
        Pair("mtime", b?.Mtime is { } bm ? FormatMtime(bm) : null, a.Mtime is { } am ? FormatMtime(am) : null);

        // Wazuh prints inodes through atoi (overflowing above 2^31−1, spec §8.17); Vigil prints the full number.
        var inodeBefore = ParseInode(b?.Inode);
        var inodeAfter = ParseInode(a.Inode);
        if (inodeBefore is { } ib && ib != inodeAfter)
        {
            w.WriteNumber("inode_before", ib);
        }

        if (inodeAfter is { } ia && ia != 0)
        {
            w.WriteNumber("inode_after", ia);
        }

        if (fim.Diff is { } diff && diff != "0")
        {
            w.WriteString("diff", diff);
        }

        if (fim.Tags is { Count: > 0 })
        {
            w.WriteStartArray("tags");
            foreach (var tag in fim.Tags)
            {
                w.WriteStringValue(tag);
            }

            w.WriteEndArray();
        }

        if (fim.ChangedAttributes is { Count: > 0 })
        {
            w.WriteStartArray("changed_attributes");
            foreach (var changed in fim.ChangedAttributes)
            {
                w.WriteStringValue(changed);
            }

            w.WriteEndArray();
        }

        w.WriteString("event", fim.EventType);
        if (fim.Audit is { } audit)
        {
            w.WritePropertyName("audit");
            audit.WriteTo(w);
        }

        w.WriteEndObject();

        // *_before only when non-empty and different from *_after; *_after when non-empty.
        void Pair(string name, string? before, string? after)
        {
            if (!string.IsNullOrEmpty(before) && before != after)
            {
                w.WriteString(name + "_before", before);
            }

            if (!string.IsNullOrEmpty(after))
            {
                w.WriteString(name + "_after", after);
            }
        }
    }

    private static long? ParseInode(string? inode) =>
        long.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Dynamic fields rebuilt as nested objects with string values; static fields first (spec §3.9).</summary>
    private static void WriteData(Utf8JsonWriter w, EventFields fields)
    {
        if (fields.Static.Count == 0 && fields.Count == 0)
        {
            return;
        }

        var root = new DataNode();
        foreach (var name in EventFields.StaticNames)
        {
            if (fields.GetStatic(name) is { } value)
            {
                root.Add(name, value);
            }
        }

        foreach (var (name, value) in fields.Dynamic)
        {
            root.Add(name, value);
        }

        w.WritePropertyName("data");
        root.WriteTo(w);
    }

    /// <summary><c>%FT%T.mmm%z</c> in the manager's local time, e.g. <c>2022-11-17T19:17:42.694+0200</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset time)
    {
        var local = TimeZoneInfo.ConvertTime(time, TimeZoneInfo.Local);
        var offset = local.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"{local:yyyy-MM-ddTHH:mm:ss.fff}{sign}{offset.Hours:00}{offset.Minutes:00}");
    }

    /// <summary>Wazuh's <c>%FT%T%z</c> cut to 20 bytes: the offset is lost (spec §2.9); kept for rule and parser compatibility.</summary>
    private static string FormatMtime(long epoch) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(epoch), TimeZoneInfo.Local)
            .ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);

    private sealed class DataNode
    {
        private readonly List<(string Key, object Value)> _children = [];

        public void Add(string dottedName, string value)
        {
            var node = this;
            var parts = dottedName.Split('.');
            for (var i = 0; i < parts.Length - 1; i++)
            {
                var existing = node._children.FindIndex(c => c.Key == parts[i]);
                if (existing < 0)
                {
                    var child = new DataNode();
                    node._children.Add((parts[i], child));
                    node = child;
                }
                else if (node._children[existing].Value is DataNode child)
                {
                    node = child;
                }
                else
                {
                    return; // "a" already holds a value: "a.b" cannot nest under it.
                }
            }

            if (!node._children.Exists(c => c.Key == parts[^1]))
            {
                node._children.Add((parts[^1], value));
            }
        }

        public void WriteTo(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            foreach (var (key, value) in _children)
            {
                if (value is DataNode node)
                {
                    w.WritePropertyName(key);
                    node.WriteTo(w);
                }
                else if (value is string text && text.Length > 1 && text[0] == '[' && TryWriteArray(w, key, text))
                {
                    // Arrays were kept as their JSON text and come back as arrays (json_array_structure).
                }
                else
                {
                    w.WriteString(key, (string)value);
                }
            }

            w.WriteEndObject();
        }

        private static bool TryWriteArray(Utf8JsonWriter w, string key, string text)
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                w.WritePropertyName(key);
                document.RootElement.WriteTo(w);
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
