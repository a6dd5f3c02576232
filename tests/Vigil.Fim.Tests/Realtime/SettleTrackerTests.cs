using Microsoft.Extensions.Time.Testing;
using Vigil.Fim.Realtime;

namespace Vigil.Fim.Tests.Realtime;

public sealed class SettleTrackerTests
{
    private const string File = "/srv/upload/new.bin";

    [Fact]
    public void ACreationClosedWithinItsGrace_IsNeverDue()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Created(File);
        Assert.True(settle.IsPending(File));

        settle.Cancel(File); // IN_CLOSE_WRITE in the next read of inotify: its own check is queued
        time.Advance(SettleTracker.Quiet * 2);
        Assert.Empty(settle.TakeDue());
        Assert.Equal(0, settle.Count);
    }

    [Fact]
    public void ACreationNotClosed_IsDueAfterItsGrace_NotAfterTheQuietTime()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Created(File);

        time.Advance(SettleTracker.Grace - TimeSpan.FromMilliseconds(1));
        Assert.Empty(settle.TakeDue());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([File], settle.TakeDue());
        Assert.False(settle.IsPending(File));
    }

    [Fact]
    public void AFileStillBeingWritten_ReArmed_IsDueOnceQuiet()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Created(File);
        time.Advance(SettleTracker.Grace);
        Assert.Equal([File], settle.TakeDue());

        settle.Arm(File); // its mtime is recent: wait for it to be still
        time.Advance(SettleTracker.Quiet - TimeSpan.FromMilliseconds(1));
        Assert.Empty(settle.TakeDue());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([File], settle.TakeDue());
    }

    [Fact]
    public void ACreationOfAPathAlreadyWaiting_KeepsItsTime()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Arm(File);
        time.Advance(SettleTracker.Quiet - TimeSpan.FromMilliseconds(10));
        settle.Created(File);
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal([File], settle.TakeDue());
    }
}
