using System.Buffers;
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
        var log = analysisEvent.Log;
        if (analysisEvent.Queue != Core.Events.EventMessage.SyscheckQueue)
        {
            return false;
        }

        // Queue 8 is syscheck's alone (as in analysisd, which hands it to the FIM decoder only): a message that is not
        // a FIM message is invalid, not an odd log line.
        if (!log.StartsWith('{'))
        {
            return analysisEvent.Invalid("not a FIM message: not a JSON object");
        }

        // Read straight from the UTF-8 text: a document per event cost more than the rest of the decoding.
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(log.Length));
        try
        {
            var reader = new Utf8JsonReader(bytes.AsSpan(0, Encoding.UTF8.GetBytes(log, bytes)));
            if (!TryRead(ref reader, out var isEvent, out var data, out var error))
            {
                return analysisEvent.Invalid($"not a FIM message: {error}");
            }

            if (isEvent)
            {
                return data is null
                    ? analysisEvent.Invalid("not a FIM message: an event without a \"data\" object")
                    : DecodeEvent(analysisEvent, data);
            }

            // scan_start, scan_end and other control messages: stored by Wazuh in wazuh-db, never alerted.
            analysisEvent.Decoder = s_control;
            analysisEvent.IsSuppressed = true;
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Reads the whole message (it must be one valid JSON object with a string <c>type</c>); a key given twice counts
    /// by its last value, as a document lookup would find it.
    /// </summary>
    private static bool TryRead(ref Utf8JsonReader reader, out bool isEvent, out FimFields? data, out string error)
    {
        isEvent = false;
        data = null;
        error = "no string \"type\"";
        var hasType = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (TextEquals(ref reader, "type"u8))
                {
                    reader.Read();
                    hasType = reader.TokenType == JsonTokenType.String;
                    isEvent = hasType && TextEquals(ref reader, "event"u8);
                    reader.Skip();
                }
                else if (TextEquals(ref reader, "data"u8))
                {
                    reader.Read();
                    data = reader.TokenType == JsonTokenType.StartObject ? FimFields.Read(ref reader) : null;
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Only white space may follow the object: the reader refuses anything else.
            while (reader.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            error = $"invalid JSON ({ex.Message.ReplaceLineEndings(" ")})";
            return false;
        }

        return hasType;
    }

    private static bool DecodeEvent(AnalysisEvent analysisEvent, FimFields data)
    {
        var path = data.Path;
        var eventType = data.Type;
        if (path is null || eventType is null)
        {
            return analysisEvent.Invalid($"not a FIM message: an event without a string data.{(path is null ? "path" : "type")}");
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
            return analysisEvent.Invalid($"not a FIM message: unknown event type {JsonSerializer.Serialize(eventType)}");
        }

        var fim = new FimEventData
        {
            Path = path,
            Mode = data.Mode ?? "scheduled",
            EventType = eventType,
            HardLinks = data.HardLinks,
            // Wazuh's agents send the link target as attributes.symlink_path; analysisd names it symbolic_path.
            SymbolicPath = data.SymbolicPath ?? data.Attributes?.SymlinkPath,
            After = data.Attributes ?? new FimAttributes(),
            Before = data.OldAttributes,
            ChangedAttributes = data.ChangedAttributes,
            Diff = data.ContentChanges,
            Tags = data.Tags is { Length: > 0 } tags ? tags.Split(',') : null,
            Audit = data.Audit,
        };
        analysisEvent.Syscheck = fim;
        AddFields(analysisEvent.Fields, fim);
        analysisEvent.Log = analysisEvent.FullLog = BuildFullLog(fim);
        return true;
    }

    /// <summary>The members of <c>data</c> the decoder uses, each as its last occurrence in the object left it.</summary>
    private sealed class FimFields
    {
        public string? Path { get; private set; }
        public string? Type { get; private set; }
        public string? Mode { get; private set; }
        public string? SymbolicPath { get; private set; }
        public string? ContentChanges { get; private set; }
        public string? Tags { get; private set; }
        public List<string>? HardLinks { get; private set; }
        public List<string>? ChangedAttributes { get; private set; }
        public FimAttributes? Attributes { get; private set; }
        public FimAttributes? OldAttributes { get; private set; }
        public JsonElement? Audit { get; private set; }

        /// <summary>Reads the object the reader is on, leaving the reader on its end.</summary>
        public static FimFields Read(ref Utf8JsonReader reader)
        {
            var data = new FimFields();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (TextEquals(ref reader, "path"u8))
                {
                    data.Path = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "type"u8))
                {
                    data.Type = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "mode"u8))
                {
                    data.Mode = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "attributes"u8))
                {
                    data.Attributes = ReadAttributes(ref reader);
                }
                else if (TextEquals(ref reader, "old_attributes"u8))
                {
                    data.OldAttributes = ReadAttributes(ref reader);
                }
                else if (TextEquals(ref reader, "changed_attributes"u8))
                {
                    data.ChangedAttributes = ReadStringArray(ref reader);
                }
                else if (TextEquals(ref reader, "hard_links"u8))
                {
                    data.HardLinks = ReadStringArray(ref reader);
                }
                else if (TextEquals(ref reader, "symbolic_path"u8))
                {
                    data.SymbolicPath = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "content_changes"u8))
                {
                    data.ContentChanges = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "tags"u8))
                {
                    data.Tags = ReadString(ref reader);
                }
                else if (TextEquals(ref reader, "audit"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        using var audit = JsonDocument.ParseValue(ref reader);
                        data.Audit = audit.RootElement.Clone();
                    }
                    else
                    {
                        data.Audit = null;
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return data;
        }
    }

    // A name or value holding a lone surrogate escape (docs/text.md: taken as U+FFFD) equals none of the names the
    // decoder looks for; the reader would throw instead.
    private static bool TextEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> text)
    {
        try
        {
            return reader.ValueTextEquals(text);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // Each reader below starts on a property name and ends on the last token of its value.
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return JsonText.GetString(ref reader);
        }

        reader.Skip();
        return null;
    }

    // A string or a number, as a field value; anything else is no value.
    private static string? ReadScalar(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
        {
            return JsonFieldFlattener.ScalarValue(ref reader);
        }

        reader.Skip();
        return null;
    }

    private static List<string>? ReadStringArray(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                using var item = JsonDocument.ParseValue(ref reader);
                list.Add(JsonFieldFlattener.ToFieldValue(item.RootElement));
            }
            else
            {
                list.Add(JsonFieldFlattener.ScalarValue(ref reader));
            }
        }

        return list;
    }

    // Not an object: no attributes (the event still decodes, as one without them).
    private static FimAttributes? ReadAttributes(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? size = null, perm = null, uid = null, gid = null, md5 = null, sha1 = null, sha256 = null;
        string? userName = null, groupName = null, inode = null, symlinkPath = null;
        long? mtime = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (TextEquals(ref reader, "size"u8))
            {
                size = ReadScalar(ref reader);
            }
            else if (TextEquals(ref reader, "perm"u8))
            {
                perm = ReadScalar(ref reader);
            }
            else if (TextEquals(ref reader, "uid"u8))
            {
                uid = ReadScalar(ref reader);
            }
            else if (TextEquals(ref reader, "gid"u8))
            {
                gid = ReadScalar(ref reader);
            }
            else if (TextEquals(ref reader, "hash_md5"u8))
            {
                md5 = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "hash_sha1"u8))
            {
                sha1 = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "hash_sha256"u8))
            {
                sha256 = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "user_name"u8))
            {
                userName = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "group_name"u8))
            {
                groupName = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "inode"u8))
            {
                inode = ReadScalar(ref reader);
            }
            else if (TextEquals(ref reader, "symlink_path"u8))
            {
                symlinkPath = ReadString(ref reader);
            }
            else if (TextEquals(ref reader, "mtime"u8))
            {
                reader.Read();
                mtime = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new FimAttributes
        {
            Size = size,
            Perm = perm,
            Uid = uid,
            Gid = gid,
            Md5 = md5,
            Sha1 = sha1,
            Sha256 = sha256,
            UserName = userName,
            GroupName = groupName,
            Mtime = mtime,
            Inode = inode,
            SymlinkPath = symlinkPath,
        };
    }

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

    [ThreadStatic]
    private static StringBuilder? t_fullLog;

    /// <summary>Wazuh's <c>full_log</c> for a FIM event (<c>fim_generate_alert</c>).</summary>
    internal static string BuildFullLog(FimEventData fim)
    {
        var sb = t_fullLog is { Capacity: <= 16 * 1024 } kept ? kept.Clear() : (t_fullLog = new StringBuilder(1024));
        sb.Append("File '").Append(ShortenPath(fim.Path)).Append("' ").Append(fim.EventType).Append('\n');
        if (fim.HardLinks is { Count: > 0 })
        {
            sb.Append("Hard links: ").Append(string.Join(",", fim.HardLinks)).Append('\n');
        }

        sb.Append("Mode: ").Append(fim.Mode).Append('\n');
        // Written for every event that lists changed attributes (added and deleted ones too), as Wazuh does.
        if (fim.ChangedAttributes is { Count: > 0 })
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
