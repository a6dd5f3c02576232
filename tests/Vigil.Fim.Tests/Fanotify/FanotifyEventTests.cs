using System.Buffers.Binary;
using System.Diagnostics;
using Vigil.Fim.Fanotify;

namespace Vigil.Fim.Tests.Fanotify;

public sealed class FanotifyEventTests
{
    [Fact]
    public void Parse_TwoRecords_ReadsMaskFdAndPid()
    {
        var buffer = Records((FanotifyLibC.FAN_OPEN_PERM, 7, 100), (FanotifyLibC.FAN_OPEN_EXEC_PERM, 8, 200));
        var events = new List<FanotifyEvent>();

        var consumed = FanotifyEvent.Parse(buffer, events, out var error);

        Assert.Null(error);
        Assert.Equal(buffer.Length, consumed);
        Assert.Equal([new FanotifyEvent(FanotifyLibC.FAN_OPEN_PERM, 7, 100), new FanotifyEvent(FanotifyLibC.FAN_OPEN_EXEC_PERM, 8, 200)], events);
        Assert.False(events[0].IsExec);
        Assert.True(events[1].IsExec);
        Assert.True(events[1].IsPermission);
    }

    [Fact]
    public void Parse_RecordWithInfoAfterTheHeader_SkipsByEventLength()
    {
        var buffer = new byte[40 + 24];
        Write(buffer, 0, 40, FanotifyLibC.FAN_OPEN_PERM, 5, 1);
        Write(buffer.AsSpan(40), 0, 24, FanotifyLibC.FAN_OPEN_PERM, 6, 2);
        var events = new List<FanotifyEvent>();

        FanotifyEvent.Parse(buffer, events, out var error);

        Assert.Null(error);
        Assert.Equal([5, 6], events.Select(e => e.Fd));
    }

    [Theory]
    [InlineData(23, 3, 24, "truncated")]
    [InlineData(24, 2, 24, "version")]
    [InlineData(24, 3, 16, "lengths")]
    [InlineData(24, 3, 48, "lengths")]
    public void Parse_BadRecord_StopsWithAReason(int size, byte version, int eventLength, string reason)
    {
        var buffer = new byte[size];
        if (size >= 24)
        {
            Write(buffer, 0, eventLength, FanotifyLibC.FAN_OPEN_PERM, 3, 1);
            buffer[4] = version;
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)Math.Min(eventLength, 24));
        }

        var events = new List<FanotifyEvent>();
        var consumed = FanotifyEvent.Parse(buffer, events, out var error);

        Assert.Empty(events);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Parse_ZeroEventLength_DoesNotLoop()
    {
        var buffer = new byte[48];
        Write(buffer, 0, 0, FanotifyLibC.FAN_OPEN_PERM, 3, 1);
        var events = new List<FanotifyEvent>();

        FanotifyEvent.Parse(buffer, events, out var error);

        Assert.Empty(events);
        Assert.NotNull(error);
    }

    [Fact]
    public void Parse_Fuzzed_NeverThrowsNorReadsPastTheBuffer()
    {
        // Seeded and time-bounded: random buffers and mutated valid ones.
        var random = new Random(1717);
        var valid = Records((FanotifyLibC.FAN_OPEN_PERM, 4, 10), (FanotifyLibC.FAN_OPEN_EXEC_PERM, 5, 11), (FanotifyLibC.FAN_Q_OVERFLOW, -1, 0));
        var clock = Stopwatch.StartNew();
        var events = new List<FanotifyEvent>();
        var rounds = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            byte[] buffer;
            if (rounds % 2 == 0)
            {
                buffer = new byte[random.Next(0, 200)];
                random.NextBytes(buffer);
                if (buffer.Length > 4 && random.Next(2) == 0)
                {
                    buffer[4] = FanotifyLibC.MetadataVersion;
                }
            }
            else
            {
                buffer = [.. valid];
                for (var flips = random.Next(1, 6); flips > 0; flips--)
                {
                    buffer[random.Next(buffer.Length)] = (byte)random.Next(256);
                }

                buffer = buffer[..random.Next(buffer.Length + 1)];
            }

            events.Clear();
            var consumed = FanotifyEvent.Parse(buffer, events, out var error);

            Assert.InRange(consumed, 0, buffer.Length);
            Assert.True(events.Count * FanotifyLibC.MetadataSize <= consumed);
            Assert.True(consumed == buffer.Length || error is not null);
            rounds++;
        }

        Assert.True(rounds > 1000, $"only {rounds} rounds");
    }

    private static byte[] Records(params (ulong Mask, int Fd, int Pid)[] records)
    {
        var buffer = new byte[records.Length * 24];
        for (var i = 0; i < records.Length; i++)
        {
            Write(buffer.AsSpan(i * 24), 0, 24, records[i].Mask, records[i].Fd, records[i].Pid);
        }

        return buffer;
    }

    private static void Write(Span<byte> buffer, int offset, int eventLength, ulong mask, int fd, int pid)
    {
        var record = buffer[offset..];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)eventLength);
        record[4] = FanotifyLibC.MetadataVersion;
        record[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(record[6..], 24);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], mask);
        BinaryPrimitives.WriteInt32LittleEndian(record[16..], fd);
        BinaryPrimitives.WriteInt32LittleEndian(record[20..], pid);
    }
}
