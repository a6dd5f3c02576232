namespace Vigil.Fim.Fanotify;

/// <summary>One fanotify_event_metadata record: the event mask, the event's descriptor (or FAN_NOFD) and the process id.</summary>
internal readonly record struct FanotifyEvent(ulong Mask, int Fd, int Pid)
{
    public bool IsPermission => (Mask & (FanotifyLibC.FAN_OPEN_PERM | FanotifyLibC.FAN_OPEN_EXEC_PERM | FanotifyLibC.FAN_ACCESS_PERM)) != 0;

    public bool IsExec => (Mask & FanotifyLibC.FAN_OPEN_EXEC_PERM) != 0;

    public bool IsOverflow => (Mask & FanotifyLibC.FAN_Q_OVERFLOW) != 0;

    /// <summary>
    /// Parses the records a read(2) of a fanotify group returned, bounds-checked: a record must have the known version, a
    /// metadata length of at least 24 bytes and an event length that covers it and fits what is left. Parsing stops at the
    /// first record that does not, and says why in <paramref name="error"/>; the records before it are returned.
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> buffer, List<FanotifyEvent> events, out string? error)
    {
        ArgumentNullException.ThrowIfNull(events);
        error = null;
        var offset = 0;
        while (offset < buffer.Length)
        {
            var rest = buffer[offset..];
            if (rest.Length < FanotifyLibC.MetadataSize)
            {
                error = $"truncated record: {rest.Length} bytes left, a header is {FanotifyLibC.MetadataSize}";
                break;
            }

            var eventLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(rest);
            var version = rest[4];
            var metadataLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(rest[6..]);
            if (version != FanotifyLibC.MetadataVersion)
            {
                error = $"metadata version {version}, expected {FanotifyLibC.MetadataVersion}";
                break;
            }

            if (metadataLength < FanotifyLibC.MetadataSize || eventLength < metadataLength || eventLength > (uint)rest.Length)
            {
                error = $"bad lengths: event {eventLength}, metadata {metadataLength}, {rest.Length} bytes left";
                break;
            }

            var mask = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]);
            var fd = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(rest[16..]);
            var pid = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(rest[20..]);
            events.Add(new FanotifyEvent(mask, fd, pid));
            offset += (int)eventLength;
        }

        return offset;
    }
}
