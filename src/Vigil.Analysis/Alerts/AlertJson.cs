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

        // The writer's calls always make one well-formed object: checking each call's place in it only costs time.
        SkipValidation = true,
    };

    // Property names encoded once: Utf8JsonWriter otherwise validates and transcodes each name on every alert.
    private static readonly JsonEncodedText s_timestamp = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText s_rule = JsonEncodedText.Encode("rule");
    private static readonly JsonEncodedText s_level = JsonEncodedText.Encode("level");
    private static readonly JsonEncodedText s_description = JsonEncodedText.Encode("description");
    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText s_firedtimes = JsonEncodedText.Encode("firedtimes");
    private static readonly JsonEncodedText s_mail = JsonEncodedText.Encode("mail");
    private static readonly JsonEncodedText s_groups = JsonEncodedText.Encode("groups");
    private static readonly JsonEncodedText s_agent = JsonEncodedText.Encode("agent");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText s_ip = JsonEncodedText.Encode("ip");
    private static readonly JsonEncodedText s_manager = JsonEncodedText.Encode("manager");
    private static readonly JsonEncodedText s_fullLog = JsonEncodedText.Encode("full_log");
    private static readonly JsonEncodedText s_decoder = JsonEncodedText.Encode("decoder");
    private static readonly JsonEncodedText s_parent = JsonEncodedText.Encode("parent");
    private static readonly JsonEncodedText s_location = JsonEncodedText.Encode("location");
    private static readonly JsonEncodedText s_data = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText s_mitre = JsonEncodedText.Encode("mitre");
    private static readonly JsonEncodedText s_syscheck = JsonEncodedText.Encode("syscheck");
    private static readonly JsonEncodedText s_path = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText s_hardLinks = JsonEncodedText.Encode("hard_links");
    private static readonly JsonEncodedText s_mode = JsonEncodedText.Encode("mode");
    private static readonly JsonEncodedText s_symbolicPath = JsonEncodedText.Encode("symbolic_path");
    private static readonly JsonEncodedText s_inodeBefore = JsonEncodedText.Encode("inode_before");
    private static readonly JsonEncodedText s_inodeAfter = JsonEncodedText.Encode("inode_after");
    private static readonly JsonEncodedText s_diff = JsonEncodedText.Encode("diff");
    private static readonly JsonEncodedText s_tags = JsonEncodedText.Encode("tags");
    private static readonly JsonEncodedText s_changedAttributes = JsonEncodedText.Encode("changed_attributes");
    private static readonly JsonEncodedText s_event = JsonEncodedText.Encode("event");
    private static readonly JsonEncodedText s_audit = JsonEncodedText.Encode("audit");

    private static readonly (JsonEncodedText, JsonEncodedText) s_size = BeforeAfter("size");
    private static readonly (JsonEncodedText, JsonEncodedText) s_perm = BeforeAfter("perm");
    private static readonly (JsonEncodedText, JsonEncodedText) s_uid = BeforeAfter("uid");
    private static readonly (JsonEncodedText, JsonEncodedText) s_gid = BeforeAfter("gid");
    private static readonly (JsonEncodedText, JsonEncodedText) s_md5 = BeforeAfter("md5");
    private static readonly (JsonEncodedText, JsonEncodedText) s_sha1 = BeforeAfter("sha1");
    private static readonly (JsonEncodedText, JsonEncodedText) s_sha256 = BeforeAfter("sha256");
    private static readonly (JsonEncodedText, JsonEncodedText) s_uname = BeforeAfter("uname");
    private static readonly (JsonEncodedText, JsonEncodedText) s_gname = BeforeAfter("gname");
    private static readonly (JsonEncodedText, JsonEncodedText) s_mtime = BeforeAfter("mtime");

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static (JsonEncodedText, JsonEncodedText) BeforeAfter(string name) =>
        (JsonEncodedText.Encode(name + "_before"), JsonEncodedText.Encode(name + "_after"));

    /// <summary>Strings as the JSON array an alert prints them in.</summary>
    public static byte[] EncodeArray(IEnumerable<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>mitre</c> object of a rule's alerts.</summary>
    public static byte[] EncodeMitre(string[] ids, string[] tactics, string[] techniques)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            WriteArray(writer, "id", ids);
            WriteArray(writer, "tactic", tactics);
            WriteArray(writer, "technique", techniques);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string Serialize(Alert alert, AlertContext context) => Encoding.UTF8.GetString(SerializeUtf8(alert, context).Span);

    /// <summary>The alert as UTF-8; the memory is reused by the next call on this thread.</summary>
    public static ReadOnlyMemory<byte> SerializeUtf8(Alert alert, AlertContext context)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, s_options);
        writer.Reset(buffer);
        Write(writer, alert, context);
        writer.Flush();
        return buffer.WrittenMemory;
    }

    public static void Write(Utf8JsonWriter w, Alert alert, AlertContext context)
    {
        var e = alert.Event;
        var rule = alert.Rule;
        w.WriteStartObject();
        Span<char> timestamp = stackalloc char[32];
        w.WriteString(s_timestamp, timestamp[..FormatTimestamp(alert.Timestamp, timestamp)]);
        WriteRule(w, alert);

        w.WriteStartObject(s_agent);
        w.WriteString(s_id, e.AgentId);
        if (e.Agent is { } agent)
        {
            w.WriteString(s_name, agent.Name);
        }
        else
        {
            w.WriteString(s_name, context.ManagerNameJson);
        }

        if (e.Agent?.Ip is { } ip)
        {
            w.WriteString(s_ip, ip);
        }

        w.WriteEndObject();
        w.WriteStartObject(s_manager);
        w.WriteString(s_name, context.ManagerNameJson);
        w.WriteEndObject();
        w.WriteString(s_id, alert.Id);
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
            w.WriteString(s_fullLog, e.FullLog);
        }

        if (e.Syscheck is { } fim)
        {
            WriteSyscheck(w, fim);
        }

        if (e.ProgramName is not null || e.PreDecodedTimestamp is not null)
        {
            w.WriteStartObject("predecoder");
            if (e.ProgramName is not null)
            {
                w.WriteString("program_name", e.ProgramName);
            }

            if (e.PreDecodedTimestamp is not null)
            {
                w.WriteString(s_timestamp, e.PreDecodedTimestamp);
            }

            if (e.PreDecodedHostname is not null)
            {
                w.WriteString("hostname", e.PreDecodedHostname);
            }

            w.WriteEndObject();
        }

        if (e.Decoder is { } decoder)
        {
            w.WriteStartObject(s_decoder);
            if (decoder.ParentJson is { } parent)
            {
                w.WriteString(s_parent, parent);
            }

            w.WriteString(s_name, decoder.NameJson);
            w.WriteEndObject();
        }

        if (e.Syscheck is null)
        {
            WriteData(w, e.Fields);
        }

        w.WriteString(s_location, e.Location);
        w.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter w, Alert alert)
    {
        var rule = alert.Rule;
        var output = rule.Output!;
        w.WriteStartObject(s_rule);
        if (rule.Level != 0)
        {
            w.WriteNumber(s_level, rule.Level);
        }

        // The rule's own description (no field filled in) and id are the same in each of its alerts: encoded at load.
        if (string.Equals(alert.Description, output.Description, StringComparison.Ordinal))
        {
            w.WriteString(s_description, output.DescriptionJson);
        }
        else
        {
            w.WriteString(s_description, alert.Description);
        }

        w.WriteString(s_id, output.IdJson);
        if (output.MitreJson is { } mitre)
        {
            w.WritePropertyName(s_mitre);
            w.WriteRawValue(mitre, skipInputValidation: true);
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
            w.WriteNumber(s_firedtimes, alert.FiredTimes);
        }

        w.WriteBoolean(s_mail, alert.IsMail);

        // The rule's arrays are the same in each of its alerts: written from their JSON, encoded at load.
        w.WritePropertyName(s_groups);
        w.WriteRawValue(output.GroupsJson, skipInputValidation: true);
        foreach (var (key, valuesJson) in output.ComplianceJson)
        {
            w.WritePropertyName(key);
            w.WriteRawValue(valuesJson, skipInputValidation: true);
        }

        w.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter w, string name, string[] values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteSyscheck(Utf8JsonWriter w, FimEventData fim)
    {
        w.WriteStartObject(s_syscheck);
        w.WriteString(s_path, fim.Path);
        if (fim.HardLinks is { Count: > 0 } links)
        {
            WriteStrings(w, s_hardLinks, links);
        }

        w.WriteString(s_mode, fim.Mode);
        if (fim.SymbolicPath is not null)
        {
            w.WriteString(s_symbolicPath, fim.SymbolicPath);
        }

        var a = fim.After;
        var b = fim.Before;
        Pair(s_size, b?.Size, a.Size);
        Pair(s_perm, b?.Perm, a.Perm);
        Pair(s_uid, b?.Uid, a.Uid);
        Pair(s_gid, b?.Gid, a.Gid);
        Pair(s_md5, b?.Md5, a.Md5);
        Pair(s_sha1, b?.Sha1, a.Sha1);
        Pair(s_sha256, b?.Sha256, a.Sha256);
        Pair(s_uname, b?.UserName, a.UserName);
        Pair(s_gname, b?.GroupName, a.GroupName);
        MtimePair(w, b?.Mtime, a.Mtime);

        // Wazuh prints inodes through atoi (overflowing above 2^31−1, spec §8.17); Vigil prints the full number.
        var inodeBefore = ParseInode(b?.Inode);
        var inodeAfter = ParseInode(a.Inode);
        if (inodeBefore is { } ib && ib != inodeAfter)
        {
            w.WriteNumber(s_inodeBefore, ib);
        }

        if (inodeAfter is { } ia && ia != 0)
        {
            w.WriteNumber(s_inodeAfter, ia);
        }

        if (fim.Diff is { } diff && diff != "0")
        {
            w.WriteString(s_diff, diff);
        }

        if (fim.Tags is { Count: > 0 } tags)
        {
            WriteStrings(w, s_tags, tags);
        }

        if (fim.ChangedAttributes is { Count: > 0 } changed)
        {
            WriteStrings(w, s_changedAttributes, changed);
        }

        w.WriteString(s_event, fim.EventType);
        if (fim.Audit is { } audit)
        {
            WriteAudit(w, audit);
        }

        w.WriteEndObject();

        // *_before only when non-empty and different from *_after; *_after when non-empty.
        void Pair((JsonEncodedText Before, JsonEncodedText After) name, string? before, string? after)
        {
            if (!string.IsNullOrEmpty(before) && before != after)
            {
                w.WriteString(name.Before, before);
            }

            if (!string.IsNullOrEmpty(after))
            {
                w.WriteString(name.After, after);
            }
        }
    }

    // The agent's whodata (flat: user_id, process_name, ppid, …) as Wazuh's alert nests it: user, process, group,
    // login_user, effective_user; a section only when one of its values is set, the whole block only when one is.
    private static readonly (string Section, (string Name, string Key)[] Fields)[] s_auditSections =
    [
        ("user", [("id", "user_id"), ("name", "user_name")]),
        ("process", [("id", "process_id"), ("name", "process_name"), ("cwd", "cwd"), ("parent_name", "parent_name"), ("parent_cwd", "parent_cwd"), ("ppid", "ppid")]),
        ("group", [("id", "group_id"), ("name", "group_name")]),
        ("login_user", [("id", "audit_uid"), ("name", "audit_name")]),
        ("effective_user", [("id", "effective_uid"), ("name", "effective_name")]),
    ];

    private static void WriteAudit(Utf8JsonWriter w, JsonElement audit)
    {
        if (audit.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var isOpen = false;
        foreach (var (section, fields) in s_auditSections)
        {
            var isSectionOpen = false;
            foreach (var (name, key) in fields)
            {
                if (AuditValue(audit, key) is not { Length: > 0 } value)
                {
                    continue;
                }

                if (!isOpen)
                {
                    w.WriteStartObject(s_audit);
                    isOpen = true;
                }

                if (!isSectionOpen)
                {
                    w.WriteStartObject(section);
                    isSectionOpen = true;
                }

                w.WriteString(name, value);
            }

            if (isSectionOpen)
            {
                w.WriteEndObject();
            }
        }

        if (isOpen)
        {
            w.WriteEndObject();
        }
    }

    // ppid and process_id are numbers (printed as integers); the other values are strings.
    private static string? AuditValue(JsonElement audit, string key) =>
        audit.TryGetProperty(key, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number when key is "ppid" or "process_id" => ((long)value.GetDouble()).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        } : null;

    // Pair() for mtime, with the times formatted on the stack.
    private static void MtimePair(Utf8JsonWriter w, long? before, long? after)
    {
        Span<char> beforeText = stackalloc char[19];
        Span<char> afterText = stackalloc char[19];
        var beforeLength = before is { } b ? FormatMtime(b, beforeText) : -1;
        var afterLength = after is { } a ? FormatMtime(a, afterText) : -1;
        if (beforeLength >= 0 && (afterLength < 0 || !beforeText[..beforeLength].SequenceEqual(afterText[..afterLength])))
        {
            w.WriteString(s_mtime.Item1, beforeText[..beforeLength]);
        }

        if (afterLength >= 0)
        {
            w.WriteString(s_mtime.Item2, afterText[..afterLength]);
        }
    }

    private static void WriteStrings(Utf8JsonWriter w, JsonEncodedText name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        for (var i = 0; i < values.Count; i++)
        {
            w.WriteStringValue(values[i]);
        }

        w.WriteEndArray();
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

        w.WritePropertyName(s_data);
        var entries = t_entries ??= new List<DataEntry>(32);
        entries.Clear();
        // Indexed loops over interface-typed lists: a foreach would allocate an enumerator per alert.
        var staticNames = EventFields.StaticNames;
        for (var i = 0; i < staticNames.Count; i++)
        {
            if (fields.GetStatic(staticNames[i]) is { } value)
            {
                entries.Add(new(staticNames[i], value, IsArray: false));
            }
        }

        var dynamic = fields.Dynamic;
        for (var i = 0; i < dynamic.Count; i++)
        {
            entries.Add(new(dynamic[i].Key, dynamic[i].Value, fields.IsArray(i)));
        }

        var layouts = t_layouts is { } kept && kept.Length >= entries.Count ? kept : (t_layouts = new Layout[Math.Max(entries.Count, 32)]);
        if (IsInTreeOrder(entries, layouts))
        {
            WriteInOrder(w, entries, layouts);
            return;
        }

        var root = new DataNode();
        foreach (var entry in entries)
        {
            root.Add(entry.Name, entry.IsArray ? new RawJson(entry.Value) : entry.Value);
        }

        root.WriteTo(w);
    }

    [ThreadStatic]
    private static List<DataEntry>? t_entries;

    private readonly record struct DataEntry(string Name, string Value, bool IsArray);

    /// <summary>
    /// Where an in-order field starts: how many objects of the previous field stay open, and the offset in its name
    /// of its first part past them.
    /// </summary>
    private readonly record struct Layout(int Shared, int Start);

    /// <summary>A part of a field name that an object holds: where in which entry's name, and the object's depth.</summary>
    /// <remarks>The entry's index, not its name: storing no reference, the stack needs no GC write barrier.</remarks>
    private readonly record struct Key(int Entry, int Start, int Length, int Depth);

    [ThreadStatic]
    private static Layout[]? t_layouts;

    [ThreadStatic]
    private static Key[]? t_keys;

    /// <summary>
    /// Whether the fields can be written one after another, opening and closing objects as their dotted names go,
    /// and come out as the tree would print them: each name's first new part (past the objects still open from the
    /// previous name) must be new in its object. Names from a flattened JSON object always are; a field repeated,
    /// an object split apart, or a value where an object is (or the reverse) needs the tree. Fills
    /// <paramref name="layouts"/> for <see cref="WriteInOrder"/>.
    /// </summary>
    /// <remarks>
    /// While the fields are in order, each object is opened once and stays open until its last field, so the parts
    /// seen in the object that is open at a depth are the keys recorded at that depth since it was opened: keys are
    /// kept on a stack, and those of deeper objects are dropped when the objects close.
    /// </remarks>
    private static bool IsInTreeOrder(List<DataEntry> entries, Layout[] layouts)
    {
        var keys = t_keys ??= new Key[64];
        var keyCount = 0;

        // The dot offsets of this name and of the previous one, in two halves that swap; a name with more dots goes
        // through the tree.
        Span<int> dotBuffer = stackalloc int[2 * MaxDots];
        var dots = dotBuffer[..MaxDots];
        var previousDots = dotBuffer[MaxDots..];
        var previousCount = 0;
        string? previous = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var name = entries[i].Name;
            var dotCount = 0;
            var chars = name.AsSpan();
            for (var at = chars.IndexOf('.'); at >= 0;)
            {
                if (dotCount == MaxDots)
                {
                    return false;
                }

                dots[dotCount++] = at;
                var next = chars[(at + 1)..].IndexOf('.');
                at = next < 0 ? -1 : at + 1 + next;
            }

            // Leading object parts shared with the previous name: same dot offsets and the same text up to them.
            var shared = 0;
            if (previous is not null)
            {
                var limit = Math.Min(dotCount, previousCount);
                while (shared < limit && dots[shared] == previousDots[shared])
                {
                    shared++;
                }

                while (shared > 0 && !chars[..dots[shared - 1]].SequenceEqual(previous.AsSpan(0, dots[shared - 1])))
                {
                    shared--;
                }
            }

            while (keyCount > 0 && keys[keyCount - 1].Depth > shared)
            {
                keyCount--;
            }

            var start = shared == 0 ? 0 : dots[shared - 1] + 1;
            var head = chars[start..(shared < dotCount ? dots[shared] : chars.Length)];
            for (var k = keyCount - 1; k >= 0 && keys[k].Depth == shared; k--)
            {
                var key = keys[k];
                if (key.Length == head.Length && entries[key.Entry].Name.AsSpan(key.Start, key.Length).SequenceEqual(head))
                {
                    return false;
                }
            }

            // The head, then the parts of the objects this name opens.
            if (keyCount + dotCount - shared + 1 > keys.Length)
            {
                Array.Resize(ref keys, Math.Max(keys.Length * 2, keyCount + dotCount + 1));
                t_keys = keys;
            }

            var partFrom = start;
            for (var depth = shared; depth <= dotCount; depth++)
            {
                var partEnd = depth < dotCount ? dots[depth] : chars.Length;
                keys[keyCount++] = new Key(i, partFrom, partEnd - partFrom, depth);
                partFrom = partEnd + 1;
            }

            layouts[i] = new Layout(shared, start);
            var swap = previousDots;
            previousDots = dots;
            dots = swap;
            previousCount = dotCount;
            previous = name;
        }

        return true;
    }

    private const int MaxDots = 32;

    private static void WriteInOrder(Utf8JsonWriter w, List<DataEntry> entries, Layout[] layouts)
    {
        w.WriteStartObject();
        var open = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var (name, value, isArray) = entries[i];
            var (shared, start) = layouts[i];
            for (; open > shared; open--)
            {
                w.WriteEndObject();
            }

            // Open the objects past those still open, then write the value.
            int dot;
            while ((dot = name.IndexOf('.', start)) >= 0)
            {
                w.WritePropertyName(name.AsSpan(start, dot - start));
                w.WriteStartObject();
                open++;
                start = dot + 1;
            }

            if (isArray)
            {
                // Arrays were kept as their JSON text and come back as arrays (json_array_structure).
                w.WritePropertyName(name.AsSpan(start));
                w.WriteRawValue(value, skipInputValidation: true);
            }
            else
            {
                w.WriteString(name.AsSpan(start), value);
            }
        }

        for (; open > 0; open--)
        {
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    /// <summary><c>%FT%T.mmm%z</c> in the manager's local time, e.g. <c>2022-11-17T19:17:42.694+0200</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset time)
    {
        Span<char> buffer = stackalloc char[32];
        return new string(buffer[..FormatTimestamp(time, buffer)]);
    }

    /// <summary>
    /// The time an alert's <c>timestamp</c> reads as, parsed back: its local time cut to the millisecond, with the offset
    /// as printed (hours and minutes).
    /// </summary>
    public static DateTimeOffset TimestampAsWritten(DateTimeOffset time)
    {
        var offset = LocalClock.OffsetAt(time);
        var local = time.UtcDateTime + offset;
        var printed = new TimeSpan(offset.Hours, offset.Minutes, 0); // both negative for a negative offset
        return new DateTimeOffset(new DateTime(local.Ticks - (local.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Unspecified), printed);
    }

    private static int FormatTimestamp(DateTimeOffset time, Span<char> destination)
    {
        var offset = LocalClock.OffsetAt(time);
        var local = time.UtcDateTime + offset;
        var written = LocalClock.FormatDateTime(local, destination);
        destination[written++] = '.';
        LocalClock.Digits(destination[written..], local.Millisecond, 3);
        written += 3;
        destination[written++] = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        LocalClock.Digits(destination[written..], abs.Hours, 2);
        LocalClock.Digits(destination[(written + 2)..], abs.Minutes, 2);
        return written + 4;
    }


    /// <summary>Wazuh's <c>%FT%T%z</c> cut to 20 bytes: the offset is lost (spec §2.9); kept for rule and parser compatibility.</summary>
    private static int FormatMtime(long epoch, Span<char> destination) =>
        LocalClock.FormatDateTime(LocalClock.FromUnixSeconds(epoch).DateTime, destination);

    /// <summary>JSON text that came from the event's own parsed JSON, written as is.</summary>
    private sealed record RawJson(string Json);

    private sealed class DataNode
    {
        private readonly List<(string Key, object Value)> _children = new(8);

        public void Add(string dottedName, object value)
        {
            var node = this;
            var start = 0;
            int dot;
            while ((dot = dottedName.IndexOf('.', start)) >= 0)
            {
                var part = dottedName.AsSpan(start, dot - start);
                var index = node.IndexOf(part);
                if (index < 0)
                {
                    var child = new DataNode();
                    node._children.Add((part.ToString(), child));
                    node = child;
                }
                else if (node._children[index].Value is DataNode child)
                {
                    node = child;
                }
                else
                {
                    return; // "a" already holds a value: "a.b" cannot nest under it.
                }

                start = dot + 1;
            }

            var last = start == 0 ? dottedName : dottedName[start..];
            if (node.IndexOf(last) < 0)
            {
                node._children.Add((last, value));
            }
        }

        private int IndexOf(ReadOnlySpan<char> key)
        {
            for (var i = 0; i < _children.Count; i++)
            {
                if (key.SequenceEqual(_children[i].Key))
                {
                    return i;
                }
            }

            return -1;
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
                else if (value is RawJson raw)
                {
                    // Arrays were kept as their JSON text and come back as arrays (json_array_structure).
                    w.WritePropertyName(key);
                    w.WriteRawValue(raw.Json, skipInputValidation: true);
                }
                else
                {
                    w.WriteString(key, (string)value);
                }
            }

            w.WriteEndObject();
        }
    }
}
