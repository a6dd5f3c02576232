using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Fim.Baseline;

namespace Vigil.Fim.Events;

/// <summary>The messages FIM sends, in Wazuh's formats (spec §2.3, §2.4, §2.8) plus Vigil's own queue-1 notices.</summary>
internal static class FimMessages
{
    public const string Location = "syscheck";

    /// <summary>The exact text rule 560 matches.</summary>
    public const string QueueOverflowText =
        "ossec: Real-time inotify kernel queue is full. Some events may be lost. Next scheduled scan will recover lost data.";

    /// <summary>Vigil: watches could not be added (ENOSPC or the configured cap); rule 200200.</summary>
    public const string WatchesExhaustedPrefix = "vigil: Real-time watches exhausted; scheduled scans only for: ";

    /// <summary>Vigil: file_limit reached; rule 200201.</summary>
    public const string FileLimitPrefix = "vigil: FIM file_limit reached";

    /// <summary>Vigil: a file could not be read for hashing; rule 200202.</summary>
    public const string UnreadablePrefix = "vigil: FIM could not read file ";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static EventMessage ScanStart(long timestamp) => Syscheck($"{{\"type\":\"scan_start\",\"data\":{{\"timestamp\":{timestamp}}}}}");

    public static EventMessage ScanEnd(long timestamp) => Syscheck($"{{\"type\":\"scan_end\",\"data\":{{\"timestamp\":{timestamp}}}}}");

    /// <summary>
    /// Vigil: how far a full scan has got (<c>done</c> false) or what it did (<c>done</c> true), for the manager's
    /// status page; <c>expected</c> is the baseline's size before the scan (0: a first scan, size unknown). The
    /// manager claims it like scan_start and scan_end and alerts nothing.
    /// </summary>
    public static EventMessage ScanProgress(long files, long bytes, TimeSpan elapsed, long expected, bool first, bool done) =>
        Syscheck(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"type\":\"scan_progress\",\"data\":{{\"files\":{files},\"bytes\":{bytes},\"elapsed_ms\":{(long)elapsed.TotalMilliseconds},\"expected\":{expected},\"first\":{(first ? "true" : "false")},\"done\":{(done ? "true" : "false")}}}}}"));

    public static EventMessage QueueOverflow() => Log(QueueOverflowText);

    public static EventMessage WatchesExhausted(IEnumerable<string> directories) =>
        Log(WatchesExhaustedPrefix + string.Join(", ", directories));

    public static EventMessage FileLimitReached(int limit, string firstSkippedPath) =>
        Log($"{FileLimitPrefix} ({limit.ToString(CultureInfo.InvariantCulture)} entries); new files are not monitored, first skipped: '{firstSkippedPath}'");

    public static EventMessage Unreadable(string path, string reason) => Log($"{UnreadablePrefix}'{path}': {reason}");

    /// <summary><c>wazuh: FIM DB: {json}</c> for rules 230–234.</summary>
    public static EventMessage DatabaseState(string alertType, int limit, int count) =>
        Log("wazuh: FIM DB: " + Json(w =>
        {
            w.WriteString("fim_db_table", "file_entry");
            w.WriteNumber("file_limit", limit);
            w.WriteNumber("file_count", count);
            w.WriteString("alert_type", alertType);
        }));

    /// <summary>An added, modified or deleted event in the §2.8 shape.</summary>
    public static EventMessage FileEvent(
        string type, string mode, long timestamp, FileEntry entry, FileEntry? old, IReadOnlyList<string>? changed, string? contentChanges, DirectoryOptions directory) =>
        Syscheck(Json(w =>
        {
            w.WriteString("type", "event");
            w.WriteStartObject("data");
            w.WriteString("path", entry.Path);
            w.WritePropertyName("version");
            w.WriteRawValue("2.0");
            w.WriteString("mode", mode);
            w.WriteString("type", type);
            w.WriteNumber("timestamp", timestamp);
            w.WritePropertyName("attributes");
            WriteAttributes(w, entry, entry.Checks);
            if (old is not null && changed is not null)
            {
                w.WritePropertyName("old_attributes");
                WriteAttributes(w, old, entry.Checks);
                w.WriteStartArray("changed_attributes");
                foreach (var name in changed)
                {
                    w.WriteStringValue(name);
                }

                w.WriteEndArray();
            }

            if (contentChanges is not null)
            {
                w.WriteString("content_changes", contentChanges);
            }

            if (directory.Tags.Count > 0)
            {
                w.WriteString("tags", string.Join(',', directory.Tags));
            }

            w.WriteEndObject();
        }));

    private static void WriteAttributes(Utf8JsonWriter w, FileEntry e, FimChecks checks)
    {
        w.WriteStartObject();
        w.WriteString("type", "file");
        if ((checks & FimChecks.Size) != 0)
        {
            w.WriteNumber("size", e.Size);
        }

        if ((checks & FimChecks.Permissions) != 0)
        {
            w.WriteString("perm", e.Perm);
        }

        if ((checks & FimChecks.Owner) != 0)
        {
            w.WriteString("uid", e.Uid.ToString(CultureInfo.InvariantCulture));
        }

        if ((checks & FimChecks.Group) != 0)
        {
            w.WriteString("gid", e.Gid.ToString(CultureInfo.InvariantCulture));
        }

        if ((checks & FimChecks.Owner) != 0)
        {
            w.WriteString("user_name", e.UserName);
        }

        if ((checks & FimChecks.Group) != 0)
        {
            w.WriteString("group_name", e.GroupName);
        }

        if ((checks & FimChecks.Inode) != 0)
        {
            w.WriteString("inode", e.Inode.ToString(CultureInfo.InvariantCulture));
        }

        if ((checks & FimChecks.Mtime) != 0)
        {
            w.WriteNumber("mtime", e.Mtime);
        }

        // Vigil: a digest is written only when the content was hashed (never the empty-input digest for unread content).
        if ((checks & FimChecks.Md5) != 0 && e.Md5 is not null)
        {
            w.WriteString("hash_md5", e.Md5);
        }

        if ((checks & FimChecks.Sha1) != 0 && e.Sha1 is not null)
        {
            w.WriteString("hash_sha1", e.Sha1);
        }

        if ((checks & FimChecks.Sha256) != 0 && e.Sha256 is not null)
        {
            w.WriteString("hash_sha256", e.Sha256);
        }

        w.WriteString("checksum", e.Checksum);
        w.WriteEndObject();
    }

    // One buffer and one writer per thread, reset for each message (the baseline writer makes one per event).
    private static string Json(Action<Utf8JsonWriter> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, s_writerOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
            writer.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            // A large message (a long content diff) does not keep its buffer alive on the thread.
            if (buffer.Capacity > 64 * 1024)
            {
                t_buffer = null;
                t_writer = null;
            }
        }
    }

    private static EventMessage Syscheck(string json) => new(EventMessage.SyscheckQueue, Location, json);

    private static EventMessage Log(string text) => new(EventMessage.LocalFileQueue, Location, text);
}
